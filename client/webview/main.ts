// The script of the extension's webview panels (bundled as dist/webview/panels.js): it
// renders what the extension host posts and posts the panel's requests back, through the
// API VS Code gives a webview. The playground calls render.ts with its own host instead.

import type { FromPanel, ToPanel } from '../src/views/models/panels.js';
import { renderMessage } from './render.js';

declare function acquireVsCodeApi(): { postMessage(message: FromPanel): void };

const vscode = acquireVsCodeApi();
const host = { post: (m: FromPanel) => vscode.postMessage(m) };
const root = document.getElementById('root')!;

window.addEventListener('message', (e: MessageEvent<ToPanel>) => renderMessage(root, e.data, host));
host.post({ type: 'ready' });
