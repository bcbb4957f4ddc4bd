import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{isa,asm,hypervisor,protocol,server,debugger,cli,tests}/**/*.test.ts', 'client/test/*.test.ts'],
    testTimeout: 60_000,
  },
});
