// The playground in Debian's Chromium (`npm run test:playground`, after a build): kept out
// of `npm test`, which runs no browser.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['playground/test/**/*.e2e.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
