// The debug adapter as its own program (dist/xenolab-dap.mjs): DAP on stdin/stdout, for
// clients that start an adapter executable (the VS Code extension, the tests, any DAP
// client). `xenolab dap` does the same through the CLI.

import { XenDebugSession } from '../../debugger/src/session.js';
import { nodeFiles } from './nodeProvider.js';

/** Serves DAP on stdin/stdout; resolves when the client goes away. */
export function serveDap(): Promise<number> {
  const session = new XenDebugSession(nodeFiles);
  session.start(process.stdin, process.stdout);
  return new Promise((resolve) => {
    process.stdin.on('end', () => resolve(0));
    process.stdin.on('close', () => resolve(0));
  });
}

if (process.argv[1] !== undefined && /xenolab-dap\.mjs$/.test(process.argv[1])) process.exitCode = await serveDap();
