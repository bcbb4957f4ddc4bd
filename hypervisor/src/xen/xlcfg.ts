// Domain configuration files in the syntax of Xen's xl.cfg(5): `key = value` settings
// (separated by newlines or `;`), values that are numbers, quoted strings or [lists] of
// strings, `#` comments. What xenolab uses is checked and converted; a setting it does not
// know is a warning (xl keeps going too); every problem carries its line and column.
// Reading the kernel and disk files is the caller's business.

import { k } from './abi.js';

export interface ConfigDiagnostic {
  severity: 'error' | 'warning';
  /** 1-based, in the configuration text. */
  line: number;
  column: number;
  message: string;
}

export interface DiskSpec {
  /** The backing file (or an empty CD drive: empty). */
  target: string;
  format: 'raw';
  /** The virtual device the guest sees (xvda, ...). */
  vdev: string;
  writable: boolean;
}

export interface VifSpec {
  /** Six bytes, or null for one the toolstack chooses. */
  mac: number[] | null;
  bridge: string;
}

export interface DomainConfig {
  name: string;
  /** The guest kernel (as written; relative to the configuration file). */
  kernel: string;
  memoryMiB: number;
  vcpus: number;
  disks: DiskSpec[];
  vifs: VifSpec[];
  /** The kernel command line (start_info.cmd_line). */
  extra: string;
  /** Relative CPU share: xl's cpu_weight (default 256) over 256. */
  weight: number;
}

export type ConfigResult = { ok: true; config: DomainConfig; diagnostics: ConfigDiagnostic[] } | { ok: false; diagnostics: ConfigDiagnostic[] };

/** Memory a domain gets when the configuration does not say (MiB). */
export const DEFAULT_MEMORY_MIB = 16;
/** xl's default cpu_weight. */
const DEFAULT_CPU_WEIGHT = 256;
/** The longest command line start_info holds (MAX_GUEST_CMDLINE, with its NUL). */
const MAX_CMDLINE = 1023;

type Value =
  | { kind: 'number'; value: number; line: number; column: number }
  | { kind: 'string'; value: string; line: number; column: number }
  | { kind: 'list'; items: Value[]; line: number; column: number };

interface Setting {
  key: string;
  value: Value;
  line: number;
  column: number;
}

class ParseError extends Error {
  constructor(readonly line: number, readonly column: number, message: string) {
    super(message);
  }
}

/** The settings of a configuration text, in order (a later one replaces an earlier one, as in xl). */
function parseSettings(text: string): Setting[] {
  let i = 0, line = 1, lineStart = 0;
  const col = () => i - lineStart + 1;
  const fail = (message: string): never => {
    throw new ParseError(line, col(), message);
  };
  const newline = () => {
    line++;
    lineStart = i + 1;
  };
  /** Skips blanks and comments; newlines too when `lines`. Returns whether a newline was passed. */
  const skip = (lines: boolean): boolean => {
    let passed = false;
    while (i < text.length) {
      const c = text[i];
      if (c === '#') while (i < text.length && text[i] !== '\n') i++;
      else if (c === '\n' && lines) {
        newline();
        i++;
        passed = true;
      } else if (c === ' ' || c === '\t' || c === '\r') i++;
      else break;
    }
    return passed;
  };
  const value = (): Value => {
    const at = { line, column: col() };
    const c = text[i];
    if (c === '"' || c === "'") {
      i++;
      let s = '';
      while (text[i] !== c) {
        if (i >= text.length || text[i] === '\n') fail('unterminated string');
        if (text[i] === '\\' && c === '"') {
          i++;
          const e = text[i];
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e;
        } else s += text[i];
        i++;
      }
      i++;
      return { kind: 'string', value: s, ...at };
    }
    if (c === '[') {
      i++;
      const items: Value[] = [];
      for (;;) {
        skip(true);
        if (text[i] === ']') break;
        if (i >= text.length) fail("unterminated list: ']' expected");
        items.push(value());
        skip(true);
        if (text[i] === ',') i++;
        else if (text[i] !== ']') fail("',' or ']' expected in a list");
      }
      i++;
      return { kind: 'list', items, ...at };
    }
    const m = /^(?:0x[0-9a-fA-F]+|\d+(?:\.\d+)?)/.exec(text.slice(i, i + 40));
    if (m) {
      i += m[0].length;
      return { kind: 'number', value: Number(m[0]), ...at };
    }
    return fail(i >= text.length || text[i] === '\n' ? 'a value is expected after =' : `unexpected '${c}': a value is a number, a quoted string or a [list]`);
  };
  const settings: Setting[] = [];
  for (;;) {
    skip(true);
    if (i >= text.length) break;
    const at = { line, column: col() };
    const key = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(i, i + 200));
    if (!key) fail(`unexpected '${text[i]}': a setting is 'name = value'`);
    i += key![0].length;
    skip(false);
    if (text[i] !== '=') fail(`'=' expected after '${key![0]}'`);
    i++;
    skip(false);
    settings.push({ key: key![0], value: value(), ...at });
    skip(false);
    if (text[i] === ';') i++;
    else if (i < text.length && text[i] !== '\n') fail(`unexpected '${text[i]}' after the value of '${key![0]}'`);
  }
  return settings;
}

const KNOWN_IGNORED = new Set(['type', 'builder', 'on_poweroff', 'on_reboot', 'on_crash', 'maxmem', 'uuid', 'cpus', 'root', 'ramdisk', 'cmdline']);

/** Parses and checks a domain configuration. */
export function parseDomainConfig(text: string): ConfigResult {
  const diagnostics: ConfigDiagnostic[] = [];
  const report = (severity: ConfigDiagnostic['severity'], at: { line: number; column: number }, message: string) =>
    diagnostics.push({ severity, line: at.line, column: at.column, message });
  let settings: Setting[];
  try {
    settings = parseSettings(text);
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    report('error', e, e.message);
    return { ok: false, diagnostics };
  }
  const byKey = new Map<string, Setting>();
  for (const s of settings) byKey.set(s.key, s);

  const str = (key: string): string | null => {
    const s = byKey.get(key);
    if (!s) return null;
    if (s.value.kind !== 'string') {
      report('error', s.value, `${key} must be a quoted string`);
      return null;
    }
    return s.value.value;
  };
  const num = (key: string, min: number, max: number): number | null => {
    const s = byKey.get(key);
    if (!s) return null;
    if (s.value.kind !== 'number' || !Number.isInteger(s.value.value)) {
      report('error', s.value, `${key} must be a whole number`);
      return null;
    }
    if (s.value.value < min || s.value.value > max) {
      report('error', s.value, `${key} = ${s.value.value} is out of range (${min}-${max})`);
      return null;
    }
    return s.value.value;
  };
  const list = (key: string): { value: string; line: number; column: number }[] => {
    const s = byKey.get(key);
    if (!s) return [];
    if (s.value.kind !== 'list') {
      report('error', s.value, `${key} must be a list: ${key} = [ '...', ... ]`);
      return [];
    }
    const out: { value: string; line: number; column: number }[] = [];
    for (const item of s.value.items) {
      if (item.kind !== 'string') report('error', item, `each ${key} entry must be a quoted string`);
      else out.push(item);
    }
    return out;
  };

  const first = settings[0] ?? { line: 1, column: 1 };
  const name = str('name');
  if (name === null && !byKey.has('name')) report('error', first, "no name: add name = \"...\"");
  else if (name !== null && !/^[A-Za-z0-9_.-]{1,64}$/.test(name)) report('error', byKey.get('name')!.value, `name '${name}' must be 1-64 letters, digits, '.', '_' or '-'`);
  const kernel = str('kernel');
  if (kernel === null && !byKey.has('kernel')) report('error', first, "no kernel: add kernel = \"guest.xasm\" (a source file or an ELF image)");
  const memoryMiB = num('memory', 1, 4096) ?? DEFAULT_MEMORY_MIB;
  const vcpus = num('vcpus', 1, k('XEN_LEGACY_MAX_VCPUS')) ?? 1;
  const weight = (num('cpu_weight', 1, 65535) ?? DEFAULT_CPU_WEIGHT) / DEFAULT_CPU_WEIGHT;
  const extra = str('extra') ?? '';
  if (extra.length > MAX_CMDLINE) report('error', byKey.get('extra')!.value, `extra is ${extra.length} characters: the command line holds ${MAX_CMDLINE}`);

  const disks: DiskSpec[] = [];
  for (const d of list('disk')) {
    const spec = parseDisk(d.value);
    if (typeof spec === 'string') report('error', d, `disk '${d.value}': ${spec}`);
    else if (disks.some((x) => x.vdev === spec.vdev)) report('error', d, `disk '${d.value}': ${spec.vdev} is given twice`);
    else disks.push(spec);
  }
  const vifs: VifSpec[] = [];
  for (const v of list('vif')) {
    const spec = parseVif(v.value);
    if (typeof spec === 'string') report('error', v, `vif '${v.value}': ${spec}`);
    else vifs.push(spec);
  }
  const known = new Set(['name', 'kernel', 'memory', 'vcpus', 'cpu_weight', 'extra', 'disk', 'vif']);
  for (const s of settings) {
    if (known.has(s.key)) continue;
    report('warning', s, KNOWN_IGNORED.has(s.key) ? `${s.key} is not used by xenolab` : `unknown setting '${s.key}' (ignored)`);
  }
  if (diagnostics.some((d) => d.severity === 'error')) return { ok: false, diagnostics };
  return { ok: true, config: { name: name!, kernel: kernel!, memoryMiB, vcpus, disks, vifs, extra, weight }, diagnostics };
}

/** A disk specification (xl-disk-configuration(5)): positional `target,format,vdev,access` or key=value. */
export function parseDisk(spec: string): DiskSpec | string {
  const parts = spec.split(',').map((p) => p.trim());
  const named = new Map<string, string>();
  const positional: string[] = [];
  for (const p of parts) {
    const eq = p.indexOf('=');
    if (eq > 0 && /^(target|format|vdev|access|devtype|backendtype)$/.test(p.slice(0, eq))) named.set(p.slice(0, eq), p.slice(eq + 1));
    else positional.push(p);
  }
  const [target = '', format = 'raw', vdev = '', access = 'rw'] = positional;
  const t = named.get('target') ?? target;
  const f = named.get('format') ?? format;
  const v = named.get('vdev') ?? vdev;
  const a = named.get('access') ?? access;
  if (f !== 'raw') return `format '${f}' is not supported (raw is)`;
  if (!/^(xvd|hd|sd)[a-z]+$/.test(v)) return v === '' ? 'no virtual device (e.g. xvda)' : `'${v}' is not a virtual device name (xvda, hdb, sdc, ...)`;
  if (!/^(r|ro|w|rw)$/.test(a)) return `access '${a}' must be r, ro, w or rw`;
  if (t === '') return 'no target file';
  return { target: t, format: 'raw', vdev: v, writable: a === 'w' || a === 'rw' };
}

/** A network interface specification (xl-network-configuration(5)): key=value pairs. */
export function parseVif(spec: string): VifSpec | string {
  let mac: number[] | null = null;
  let bridge = 'xenbr0';
  for (const p of spec.split(',').map((x) => x.trim()).filter((x) => x !== '')) {
    const eq = p.indexOf('=');
    if (eq <= 0) return `'${p}' is not key=value`;
    const key = p.slice(0, eq), value = p.slice(eq + 1);
    if (key === 'mac') {
      if (!/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(value)) return `mac '${value}' is not six hex bytes (00:16:3e:01:02:03)`;
      mac = value.split(':').map((b) => parseInt(b, 16));
      if (mac[0] & 1) return `mac '${value}' is a multicast address`;
    } else if (key === 'bridge') bridge = value;
    else if (!/^(ip|model|type|vifname|script|backend|rate)$/.test(key)) return `unknown key '${key}'`;
  }
  return { mac, bridge };
}
