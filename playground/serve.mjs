// `npm start`: builds the playground and serves dist/playground/ on localhost (a static
// file server, nothing else), then prints the URL. PORT picks the port (0: any free one).
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPlayground } from './build.mjs';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.map': 'application/json', '.ttf': 'font/ttf',
};

/** The page's Content-Security-Policy (its meta tag), sent as a header too so that the workers keep it. */
export function pageCsp(dir) {
  const m = /<meta http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(readFileSync(join(dir, 'index.html'), 'utf8'));
  if (!m) throw new Error('index.html has no Content-Security-Policy');
  return m[1];
}

/** The debug adapter's worker: the simulated CPU compiles hot guest code into functions. */
const DAP_WORKER = 'xenolab-dap-worker.js';

/**
 * The policy of the adapter's worker: the page's, with eval allowed for its compiled
 * blocks (without it the CPU falls back to interpreting every instruction). Only that
 * worker gets it; what it may fetch or connect to stays 'self'.
 */
export function workerCsp(csp) {
  return csp.replace(/script-src ([^;]*)/, (_, sources) => `script-src ${sources} 'unsafe-eval'`);
}

/** Serves `dir` on 127.0.0.1:`port`; resolves to the server and its URL. */
export function serve(dir, port = 0) {
  const csp = pageCsp(dir);
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const file = normalize(join(dir, path === '/' ? 'index.html' : path));
    if (!file.startsWith(dir + sep) || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(file);
      const policy = file.endsWith(`${sep}${DAP_WORKER}`) ? workerCsp(csp) : csp;
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-security-policy': policy, 'cache-control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => {
    resolve({ server, url: `http://127.0.0.1:${server.address().port}/` });
  }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = await buildPlayground();
  const { url } = await serve(dir, Number(process.env.PORT ?? 8080));
  console.log(`xenolab playground: ${url}  (Ctrl+C stops it)`);
}
