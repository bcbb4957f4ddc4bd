// What a launch request names, turned into domains to boot: guest sources (assembled on
// the fly, then written and read back as ELF so that source lines come from the DWARF
// line table, exactly as for an ELF the user built), ELF files, or xl.cfg domain
// configurations with their kernels and disks. Files come through `LaunchFiles`, so the
// same code serves Node (the stdio adapter) and the browser (the playground's worker).

import {
  assemble, dirName, elfToImage, formatDiagnostic, isElfError, lineColumn, readElf32, resolvePath, withBuiltins, writeElf32,
  type Image, type LineRow, type SourceProvider,
} from '../../asm/src/index.js';
import { SECTOR } from '../../hypervisor/src/xen/backends/blkback.js';
import type { DomainSpec } from '../../hypervisor/src/xen/boot.js';
import type { GuestImage } from '../../hypervisor/src/xen/image.js';
import { parseDomainConfig } from '../../hypervisor/src/xen/xlcfg.js';

/** File access for a launch; paths are absolute, '/'-separated. */
export interface LaunchFiles {
  readText(path: string): string | null;
  readBytes(path: string): Uint8Array | null;
}

export interface LaunchArgs {
  /** Guest kernels (.xasm/.asm/.s/.nasm source or ELF) or xl.cfg files (.cfg); one domain each. */
  program: string | string[];
  /** Memory of a domain given as a kernel, KiB (default LAUNCH_DEFAULTS). */
  memoryKiB?: number;
  /** vCPUs of a domain given as a kernel (default LAUNCH_DEFAULTS). */
  vcpus?: number;
  /** The guest's command line (start_info.cmd_line) for domains given as kernels. */
  args?: string | string[];
  /** Disk images for domains given as kernels: `target,raw,vdev,rw` specs as in xl.cfg, relative to the kernel. */
  disks?: string[];
  /** Include directories for guest sources. */
  includeDirs?: string[];
}

/** A located problem that stops the launch. */
export interface LaunchError {
  file: string;
  line: number;
  column: number;
  message: string;
  severity?: 'error' | 'warning';
}

/** `file:line:col: error: message`, as compilers print it. */
export function formatLaunchError(e: LaunchError): string {
  return `${e.file}:${e.line}:${e.column}: ${e.severity ?? 'error'}: ${e.message}`;
}

export interface LoadedDomain {
  spec: DomainSpec;
  /** The program as the debugger sees it: symbols and the line table. */
  image: Image;
  /** The kernel file. */
  kernel: string;
  /** For a program assembled here: each macro invocation line, at the addresses of the code it expanded to. */
  callSites: LineRow[];
}

export type LoadResult = { ok: true; domains: LoadedDomain[]; warnings: LaunchError[] } | { ok: false; errors: LaunchError[]; warnings: LaunchError[] };

export interface LoadOptions {
  /**
   * Disks are served from their files and written back when the guest writes (the CLI).
   * Without it each disk is a copy, so that going back in time can undo the guest's writes.
   */
  writeBack?: (path: string, bytes: Uint8Array) => void;
}

/** The loadable parts of an assembled or read image, as the domain builder takes them. */
export function guestImage(image: Image): GuestImage {
  return {
    entry: image.entry,
    segments: image.sections.filter((s) => s.alloc).map((s) => ({ vaddr: s.vaddr, data: s.bytes, memsz: s.size })),
    notes: image.notes.map((n) => ({ type: n.type, desc: n.desc })),
  };
}

/** What the launch arguments with defaults are when absent (the extension's settings show the same). */
export const LAUNCH_DEFAULTS = { memoryKiB: 16384, vcpus: 1, snapshotSpacing: 250_000, schedulerLocking: 'step' } as const;

const SOURCE = /\.(xasm|asm|s|nasm)$/i;

export function loadLaunch(args: LaunchArgs, files: LaunchFiles, opts: LoadOptions = {}): LoadResult {
  const programs = Array.isArray(args.program) ? args.program : [args.program];
  if (programs.length === 0 || programs.some((p) => typeof p !== 'string' || p === '')) return fail('', 'launch needs "program": a guest source, an ELF file or an xl.cfg file (or a list of them)');
  const domains: LoadedDomain[] = [];
  const errors: LaunchError[] = [];
  const warnings: LaunchError[] = [];
  const ctx: Context = { files, args, opts, warnings };
  const cmdline = Array.isArray(args.args) ? args.args.join(' ') : args.args;
  for (const program of programs) {
    const r = /\.cfg$/i.test(program)
      ? fromConfig(program, ctx)
      : fromKernel(program, ctx, {
        name: baseName(program).replace(/\.[^.]*$/, ''), memoryKiB: args.memoryKiB ?? LAUNCH_DEFAULTS.memoryKiB, vcpus: args.vcpus ?? LAUNCH_DEFAULTS.vcpus, cmdline,
        disks: args.disks ?? [],
      });
    if (r.ok) domains.push(...r.domains);
    else errors.push(...r.errors);
  }
  const names = new Set<string>();
  for (const d of domains) {
    if (names.has(d.spec.name)) errors.push({ file: d.kernel, line: 1, column: 1, message: `two domains are named '${d.spec.name}'` });
    names.add(d.spec.name);
  }
  return errors.length > 0 ? { ok: false, errors, warnings } : { ok: true, domains, warnings };
}

interface Context {
  files: LaunchFiles;
  args: LaunchArgs;
  opts: LoadOptions;
  warnings: LaunchError[];
}

function fail(file: string, message: string, line = 1, column = 1): { ok: false; errors: LaunchError[]; warnings: LaunchError[] } {
  return { ok: false, errors: [{ file, line, column, message }], warnings: [] };
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

interface KernelOptions {
  name: string;
  memoryKiB: number;
  vcpus: number;
  cmdline?: string;
  weight?: number;
  disks: string[];
  vifs?: DomainSpec['vifs'];
}

function fromKernel(path: string, ctx: Context, o: KernelOptions, from?: { file: string; line: number; column: number }): LoadResult {
  const { files } = ctx;
  const assembled = SOURCE.test(path) ? assembleSource(path, ctx) : readElf(path, files);
  if (!('image' in assembled)) {
    if (from) for (const e of assembled.errors) e.message = `${e.message} (kernel of ${from.file}:${from.line})`;
    return { ok: false, errors: assembled.errors, warnings: [] };
  }
  const { image, callSites } = assembled;
  const disks: NonNullable<DomainSpec['disks']> = [];
  for (const spec of o.disks) {
    const [target, , vdev, mode] = spec.split(',').map((s) => s.trim());
    const file = resolvePath(dirName(path), target ?? '');
    const bytes = files.readBytes(file);
    if (bytes === null) return fail(from?.file ?? path, `disk '${target}' cannot be read (looked at ${file})`, from?.line, from?.column);
    if (bytes.length % SECTOR !== 0) return fail(from?.file ?? path, `disk '${target}' is ${bytes.length} bytes, not a whole number of ${SECTOR}-byte sectors`, from?.line, from?.column);
    const writeBack = ctx.opts.writeBack;
    const image = writeBack
      ? { bytes, writable: mode !== 'ro' && mode !== 'r', written: () => writeBack(file, bytes) }
      : { bytes: bytes.slice(), writable: mode !== 'ro' && mode !== 'r', written: () => {} };
    disks.push({ vdev: vdev ?? 'xvda', image });
  }
  const spec: DomainSpec = { image: guestImage(image), name: o.name, memoryKiB: o.memoryKiB, vcpus: o.vcpus, cmdline: o.cmdline, weight: o.weight, disks, vifs: o.vifs };
  return { ok: true, domains: [{ spec, image, kernel: path, callSites }], warnings: [] };
}

type Loaded = { image: Image; callSites: LineRow[] } | { ok: false; errors: LaunchError[]; warnings?: LaunchError[] };

function assembleSource(path: string, ctx: Context): Loaded {
  const { files } = ctx;
  const includeDirs = ctx.args.includeDirs ?? [];
  const text = files.readText(path);
  if (text === null) return fail(path, `cannot read '${path}'`);
  const provider: SourceProvider = withBuiltins({
    read(p, fromFile) {
      for (const c of p.startsWith('/') ? [p] : [resolvePath(dirName(fromFile), p), ...includeDirs.map((d) => resolvePath(d, p))]) {
        const t = files.readText(c);
        if (t !== null) return { path: c, text: t };
      }
      return null;
    },
    readBinary(p, fromFile) {
      const c = resolvePath(dirName(fromFile), p);
      const b = files.readBytes(c);
      return b === null ? null : { path: c, bytes: b };
    },
  });
  const r = assemble({ path, text, provider });
  const located = (d: (typeof r.diagnostics)[number]): LaunchError => {
    const f = r.files[d.span.file];
    const at = f ? lineColumn(f, d.span.start) : { line: 1, column: 1 };
    // The message, and the notes (where in a macro or include it happened) on the lines after it.
    const message = formatDiagnostic(d, r.files).split('\n').map((l, i) => (i === 0 ? l.replace(/^.*?: (error|warning): /, '') : l)).join('\n');
    return { file: f?.path ?? path, line: at.line, column: at.column, message, severity: d.severity === 'error' ? 'error' : 'warning' };
  };
  ctx.warnings.push(...r.diagnostics.filter((d) => d.severity !== 'error').map(located));
  const errors = r.diagnostics.filter((d) => d.severity === 'error').map(located);
  if (!r.ok || errors.length > 0) return { ok: false, errors: errors.length > 0 ? errors : [{ file: path, line: 1, column: 1, message: 'assembly failed' }], warnings: [] };
  // Through ELF and back: the debugger reads the same DWARF line table gdb would.
  const elf = readElf32(writeElf32(r.image, { compDir: dirName(path) }));
  if (isElfError(elf)) return fail(path, `internal: the ELF written for ${path} does not read back: ${elf.message}`);
  const callSites: LineRow[] = [];
  for (const row of r.listing) {
    if (row.bytes.length === 0) continue;
    for (const frame of row.line.stack) {
      const f = r.files[frame.span.file];
      if (frame.kind !== 'macro' || !f) continue;
      const at = lineColumn(f, frame.span.start);
      callSites.push({ address: row.address, file: f.path, line: at.line, column: at.column });
    }
  }
  return { image: elfToImage(elf), callSites };
}

function readElf(path: string, files: LaunchFiles): Loaded {
  const bytes = files.readBytes(path);
  if (bytes === null) return fail(path, `cannot read '${path}'`);
  const elf = readElf32(bytes);
  return isElfError(elf) ? fail(path, elf.message) : { image: elfToImage(elf), callSites: [] };
}

function fromConfig(path: string, ctx: Context): LoadResult {
  const text = ctx.files.readText(path);
  if (text === null) return fail(path, `cannot read '${path}'`);
  const r = parseDomainConfig(text);
  const all = r.diagnostics.map((d): LaunchError => ({ file: path, line: d.line, column: d.column, message: d.message, severity: d.severity === 'error' ? 'error' : 'warning' }));
  ctx.warnings.push(...all.filter((d) => d.severity === 'warning'));
  if (!r.ok) return { ok: false, errors: all.filter((d) => d.severity === 'error'), warnings: [] };
  const c = r.config;
  const kernel = resolvePath(dirName(path), c.kernel);
  if (ctx.files.readBytes(kernel) === null) return fail(path, `kernel '${c.kernel}' not found (looked at ${kernel})`);
  const disks = c.disks.map((d) => `${resolvePath(dirName(path), d.target)},raw,${d.vdev},${d.writable ? 'rw' : 'ro'}`);
  return fromKernel(kernel, ctx, {
    name: c.name, memoryKiB: c.memoryMiB * 1024, vcpus: c.vcpus, cmdline: c.extra, weight: c.weight, disks, vifs: c.vifs,
  }, { file: path, line: 1, column: 1 });
}
