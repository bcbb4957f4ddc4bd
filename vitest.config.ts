import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{isa,asm,hypervisor,protocol,server,debugger,cli,client,playground,tests}/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
