// The debug adapter in a web worker (the browser playground): DAP messages in and out
// through postMessage. The page first sends `{ files: { path: text } }` (the guest
// sources and configurations, by absolute path; binary files as base64 under
// `binary`), then DAP requests as they are.

import type { DebugProtocol } from '@vscode/debugprotocol';
import type { LaunchFiles } from './launch.js';
import { XenDebugSession } from './session.js';

interface WorkerScope {
  postMessage(message: unknown): void;
  onmessage: ((e: { data: unknown }) => void) | null;
}

const scope = globalThis as unknown as WorkerScope;
const texts = new Map<string, string>();
const binaries = new Map<string, Uint8Array>();

const files: LaunchFiles = {
  readText: (path) => texts.get(path) ?? null,
  readBytes: (path) => binaries.get(path) ?? (texts.has(path) ? new TextEncoder().encode(texts.get(path)) : null),
};

const session = new XenDebugSession(files);
session.onDidSendMessage((message) => scope.postMessage(message));

scope.onmessage = (e) => {
  const m = e.data as { files?: Record<string, string>; binary?: Record<string, string> } & Partial<DebugProtocol.ProtocolMessage>;
  if (m.files !== undefined || m.binary !== undefined) {
    for (const [path, text] of Object.entries(m.files ?? {})) texts.set(path, text);
    for (const [path, b64] of Object.entries(m.binary ?? {})) binaries.set(path, Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
    return;
  }
  session.handleMessage(m as DebugProtocol.ProtocolMessage);
};
