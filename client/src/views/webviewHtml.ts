// The HTML of a panel's webview: one script and one stylesheet of the extension's own
// (dist/webview/, through asWebviewUri), a strict Content Security Policy that allows
// nothing else (the script by nonce, no inline styles, nothing remote).

import * as vscode from 'vscode';
import type { PanelKind } from './models/panels.js';

/** Where the webview bundle lives in the extension (scripts/bundle.mjs writes it). */
export const WEBVIEW_DIR = ['dist', 'webview'] as const;

function nonce(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return { enableScripts: true, retainContextWhenHidden: false, localResourceRoots: [vscode.Uri.joinPath(extensionUri, ...WEBVIEW_DIR)] };
}

export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, kind: PanelKind, title: string): string {
  const asset = (file: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...WEBVIEW_DIR, file)).toString();
  const n = nonce();
  const csp = [
    "default-src 'none'",
    `style-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${n}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${asset('panels.css')}">
<title>${title.replace(/[<&"]/g, '')}</title>
</head>
<body data-panel="${kind}">
<main id="root"><p class="empty">Loading…</p></main>
<script nonce="${n}" src="${asset('panels.js')}"></script>
</body>
</html>`;
}
