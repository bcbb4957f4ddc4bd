// End-to-end tests in a real VS Code (code-server + Debian's Chromium): `npm run test:e2e`.
// Kept out of `npm test` (vitest.config.ts includes only *.test.ts); see tests/e2e/.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/e2e/**/*.e2e.ts'],
    // Installs code-server on first use (minutes), outside the tests' timeouts.
    globalSetup: ['tests/e2e/setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // Each file starts its own code-server and browser: one at a time on 2 cores.
    fileParallelism: false,
  },
});
