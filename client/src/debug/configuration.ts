// Launch configurations of the `xenolab` debug type, worked out without VS Code: what F5
// runs when there is no launch.json (the guest in the active editor), the simulator
// settings filled in where a configuration says nothing, and paths made absolute, since
// the adapter reads files by absolute path.

import { isAbsolute, resolve } from 'node:path';

export const DEBUG_TYPE = 'xenolab';
export const SIMULATOR_SECTION = 'xenolab.simulator';

/** Launch attributes that `xenolab.simulator.*` settings default (the manifest generator gives each a schema). */
export const SIMULATOR_KEYS = ['memoryKiB', 'vcpus', 'maxCycles', 'snapshotSpacing', 'schedulerLocking', 'stopOnEntry', 'includeDirs', 'debugXen'] as const;
export type SimulatorKey = (typeof SIMULATOR_KEYS)[number];
export type SimulatorSettings = Partial<Record<SimulatorKey, unknown>>;

/** What the adapter can launch, by file name (debugger/src/launch.ts: sources, xl.cfg files; anything else is read as ELF). */
const GUEST_SOURCE = /\.(xasm|asm|s|nasm)$/i;
const DOMAIN_CONFIG = /\.cfg$/i;

export interface LaunchConfiguration {
  type: string;
  request: string;
  name: string;
  program?: string | string[];
  [attribute: string]: unknown;
}

/** The editor F5 was pressed in. */
export interface ActiveFile {
  path: string;
  languageId: string;
}

export type Resolved = { ok: true; config: LaunchConfiguration } | { ok: false; message: string };

/** Whether the active file is something to run: a guest source or an xl.cfg file. */
export function isRunnable(file: ActiveFile | undefined): file is ActiveFile {
  return file !== undefined && (file.languageId === 'xasm' || GUEST_SOURCE.test(file.path) || DOMAIN_CONFIG.test(file.path));
}

const baseName = (path: string) => path.replace(/^.*[\\/]/, '');

/** A configuration for the active file, as F5 without a launch.json runs it. */
export function configurationFor(file: ActiveFile): LaunchConfiguration {
  return { type: DEBUG_TYPE, request: 'launch', name: `Run ${baseName(file.path)}`, program: file.path };
}

/** launch.json's first configurations (package.json's `initialConfigurations` and the provider's). */
export function initialConfigurations(): LaunchConfiguration[] {
  return [
    { type: DEBUG_TYPE, request: 'launch', name: 'Run the guest in the editor', program: '${file}', stopOnEntry: true },
  ];
}

/**
 * Before variables are substituted: an empty configuration (F5 with no launch.json)
 * becomes one for the active file; settings fill what the configuration leaves out.
 */
export function resolveLaunch(config: Partial<LaunchConfiguration>, active: ActiveFile | undefined, settings: SimulatorSettings): Resolved {
  let c: Partial<LaunchConfiguration> = config;
  if (c.type === undefined && c.request === undefined && c.name === undefined) {
    if (!isRunnable(active)) return { ok: false, message: 'Open a guest source (.xasm) or an xl.cfg file to run it, or add a xenolab launch configuration.' };
    c = { ...configurationFor(active), ...(config.noDebug === true ? { noDebug: true } : {}) };
  }
  if (c.request !== 'launch') return { ok: false, message: `xenolab debug configurations launch a guest ("request": "launch"), not "${String(c.request)}".` };
  if (c.program === undefined || (Array.isArray(c.program) && c.program.length === 0)) {
    if (!isRunnable(active)) return { ok: false, message: 'This configuration has no "program": name a guest source, an ELF file or an xl.cfg file.' };
    c = { ...c, program: active.path };
  }
  const out: LaunchConfiguration = { type: DEBUG_TYPE, name: 'xenolab', ...c, request: 'launch' };
  for (const key of SIMULATOR_KEYS) {
    const value = settings[key];
    if (out[key] === undefined && value !== undefined && value !== null) out[key] = value;
  }
  return { ok: true, config: out };
}

/** After variables are substituted: relative paths against the workspace folder (or the program's directory). */
export function absolutePaths(config: LaunchConfiguration, folder: string | undefined): Resolved {
  const programs = Array.isArray(config.program) ? config.program : [config.program];
  if (programs.some((p) => typeof p !== 'string' || p === '')) return { ok: false, message: '"program" must be a file name or a list of file names.' };
  const base = folder ?? process.cwd();
  const absolute = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const program = (programs as string[]).map(absolute);
  const out: LaunchConfiguration = { ...config, program: Array.isArray(config.program) ? program : program[0] };
  if (Array.isArray(config.includeDirs)) out.includeDirs = config.includeDirs.filter((d): d is string => typeof d === 'string').map(absolute);
  return { ok: true, config: out };
}
