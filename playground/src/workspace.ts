// The playground's workspace: a seed's files (a guest, its includes, xl.cfg files and disk
// images) under /workspace, what a launch runs, and the shareable link that carries them
// in the URL fragment (deflated with CompressionStream where the browser has it).

/** Files by path relative to the workspace: texts, and binary files (disk images) in base64. */
export interface Workspace {
  files: Record<string, string>;
  binary: Record<string, string>;
}

export type Seeds = Record<string, Workspace>;

export const DEFAULT_SEED = 'hello';
const ROOT = '/workspace/';

export const absolutePath = (rel: string) => ROOT + rel;
export const fileUri = (rel: string) => `file://${absolutePath(rel)}`;
export const relativeOfUri = (uri: string) => decodeURIComponent(new URL(uri).pathname).slice(ROOT.length);

/** What a launch boots: every xl.cfg of the workspace (one domain each), else the guest in the editor or the first guest. */
export function programOf(ws: Workspace, active: string | undefined): string[] {
  const paths = Object.keys(ws.files);
  const configs = paths.filter((p) => p.endsWith('.cfg')).sort();
  if (configs.length) return configs.map(absolutePath);
  const guest = active?.endsWith('.xasm') ? active : paths.find((p) => p.endsWith('.xasm'));
  return guest ? [absolutePath(guest)] : [];
}

/** The file to show first: the guest source an xl.cfg boots, else the first guest source. */
export function mainFile(ws: Workspace): string | undefined {
  const paths = Object.keys(ws.files).sort();
  return paths.find((p) => p.endsWith('.xasm')) ?? paths[0];
}

// ---- the shareable link: #z=<base64url of deflate-raw JSON>, or #j=<base64url JSON> ------------

const toBase64Url = (bytes: Uint8Array) => btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join('')).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
const fromBase64Url = (s: string) => Uint8Array.from(atob(s.replaceAll('-', '+').replaceAll('_', '/')), (c) => c.charCodeAt(0));

async function pipe(bytes: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  return new Uint8Array(await new Response(new Blob([bytes as BlobPart]).stream().pipeThrough(stream)).arrayBuffer());
}

export async function encodeWorkspace(ws: Workspace): Promise<string> {
  const json = new TextEncoder().encode(JSON.stringify(ws));
  if (typeof CompressionStream === 'function') return `z=${toBase64Url(await pipe(json, new CompressionStream('deflate-raw')))}`;
  return `j=${toBase64Url(json)}`;
}

/** The workspace a link's fragment holds, or null when it holds none (or a damaged one). */
export async function decodeWorkspace(fragment: string): Promise<Workspace | null> {
  const m = /^#?([zj])=(.+)$/.exec(fragment);
  if (!m) return null;
  try {
    const bytes = fromBase64Url(m[2]!);
    const json = m[1] === 'z' ? await pipe(bytes, new DecompressionStream('deflate-raw')) : bytes;
    const ws = JSON.parse(new TextDecoder().decode(json)) as Workspace;
    return typeof ws.files === 'object' && ws.files !== null ? { files: ws.files, binary: ws.binary ?? {} } : null;
  } catch {
    return null;
  }
}
