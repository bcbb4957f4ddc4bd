// The `xenolab` command: run guest kernels on the simulated Xen, assemble and disassemble
// them, print the built-in xen.inc; with no command it boots the default seed guest.

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  assemble, builtinInclude, flatBinary, formatDiagnostic, formatListing, writeElf32, XEN_INCLUDE_NAME,
  type AssembleResult,
} from '../../asm/src/index.js';
import { disassembleFile, describeImage } from './inspect.js';
import { nodeFiles, nodeProvider } from './nodeProvider.js';
import { formatLaunchError, loadLaunch } from '../../debugger/src/launch.js';
import { serveDap } from './dap.js';
import { lint, serveLsp } from './lsp.js';
import { runDomains, type RunArgs } from './run.js';

const USAGE = `usage: xenolab <command> [options]

commands:
  run [FILE...] [options]
                         boot guest kernels (.xasm/.asm source or ELF; default: the
                         hello seed) or xl.cfg domain configurations (.cfg) as domains
                         on the simulated Xen, stream their consoles (prefixed with
                         (dN) when there are several); exit status: the shutdown
                         reason, 3 if one crashed, 125 if all that are left block
                         with nothing to wake them
      --max-cycles N     stop after N cycles (default 100000000; exit status 124)
      --memory KIB       memory of a domain given as a kernel (default 16384)
      --vcpus N          vCPUs of a domain given as a kernel (default 1; the guest
                         brings up all but vCPU 0 with VCPUOP_initialise and _up)
      --trace hypercalls print each hypercall and its result on stderr
      --debug-xen        behave as a debug build of Xen: a hypercall leaves
                         0xDEADF00D in the argument registers it took (the ABI
                         says they are clobbered; release builds keep them)
  list [FILE...] [options]
                         like run, for 10000000 cycles unless --max-cycles says
                         otherwise, then an xl list table of the domains
  demo [FILE]            assemble the default seed guest (or FILE), show its ELF
                         summary and its disassembly with source lines
  asm FILE [options]     assemble a NASM-syntax guest kernel
      -f elf32|bin       output format (default elf32: an EM_386 executable with
                         .note.Xen, symbols and a DWARF line table)
      -o OUT             output file (default: FILE without extension, .elf/.bin)
      -l LISTFILE        write a listing (like nasm -l); --listing prints it
      -I DIR             add an include directory (repeatable)
      -D NAME[=VALUE]    predefine a single-line macro (repeatable)
  disasm FILE [--org ADDR]
                         disassemble an ELF32 executable (or a flat binary loaded
                         at ADDR) in NASM syntax
  xen-inc [-o OUT]       print the built-in ${XEN_INCLUDE_NAME} (so nasm can use it)
  lint FILE... [--rule CODE=SEVERITY]
                         the language server's diagnostics, as file:line:col: severity
                         code: message (SEVERITY: error, warning, info, hint or off);
                         exit status 1 if there are errors
  lsp --stdio            the language server on stdin/stdout (any LSP client)
  dap                    the debug adapter: speaks the Debug Adapter Protocol on
                         stdin/stdout (launch with "program": a guest source, ELF or
                         xl.cfg file, or a list of them)
`;

class UsageError extends Error {}

interface AsmArgs {
  file: string;
  format: 'elf32' | 'bin';
  out: string | null;
  listFile: string | null;
  listing: boolean;
  includeDirs: string[];
  defines: Record<string, string>;
}

function parseAsmArgs(argv: string[]): AsmArgs {
  const a: AsmArgs = { file: '', format: 'elf32', out: null, listFile: null, listing: false, includeDirs: [], defines: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      // nasm style: -fbin and -f bin are both accepted
      if (arg.length > 2 && !arg.startsWith('--')) return arg.slice(2);
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    if (arg.startsWith('-f')) {
      const f = value();
      if (f !== 'elf32' && f !== 'bin' && f !== 'elf') throw new UsageError(`unknown output format '${f}' (use elf32 or bin)`);
      a.format = f === 'bin' ? 'bin' : 'elf32';
    } else if (arg.startsWith('-o')) a.out = value();
    else if (arg === '--listing') a.listing = true;
    else if (arg.startsWith('-l')) a.listFile = value();
    else if (arg.startsWith('-I')) a.includeDirs.push(value());
    else if (arg.startsWith('-D')) {
      const d = value();
      const eq = d.indexOf('=');
      a.defines[eq < 0 ? d : d.slice(0, eq)] = eq < 0 ? '' : d.slice(eq + 1);
    } else if (arg.startsWith('-') && arg !== '-') throw new UsageError(`unknown option '${arg}'`);
    else if (a.file) throw new UsageError('more than one input file');
    else a.file = arg;
  }
  if (!a.file) throw new UsageError('asm needs an input file');
  return a;
}

function readSource(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read '${path}': ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

function printDiagnostics(result: AssembleResult): void {
  for (const d of result.diagnostics) process.stderr.write(formatDiagnostic(d, result.files) + '\n');
}

export function assembleFile(path: string, includeDirs: string[] = [], defines: Record<string, string> = {}): AssembleResult {
  return assemble({ path, text: readSource(path), provider: nodeProvider(includeDirs), predefined: defines });
}

function cmdAsm(argv: string[]): number {
  const a = parseAsmArgs(argv);
  const result = assembleFile(a.file, a.includeDirs, a.defines);
  printDiagnostics(result);
  if (!result.ok) return 1;
  const out = a.out ?? a.file.replace(/\.[^./]*$/, '') + (a.format === 'bin' ? '.bin' : '.elf');
  const bytes = a.format === 'bin' ? flatBinary(result.image) : writeElf32(result.image, { compDir: process.cwd() });
  writeFileSync(out, bytes);
  const listing = a.listFile || a.listing ? formatListing(result) : '';
  if (a.listFile) writeFileSync(a.listFile, listing);
  if (a.listing) process.stdout.write(listing);
  return 0;
}

function cmdDisasm(argv: string[]): number {
  let file = '';
  let org = 0;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--org') {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v)) throw new UsageError('--org needs a number, e.g. --org 0xc0000000');
      org = v;
    } else if (argv[i].startsWith('-')) throw new UsageError(`unknown option '${argv[i]}'`);
    else file = argv[i];
  }
  if (!file) throw new UsageError('disasm needs an input file');
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new UsageError(`cannot read '${file}': ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const text = disassembleFile(bytes, org, file);
  if (typeof text !== 'string') {
    process.stderr.write(`${file}: error: ${text.error}\n`);
    return 1;
  }
  process.stdout.write(text);
  return 0;
}

/** Where the built-in seed guests live (next to the bundle's package root). */
export function seedsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return resolve(here, '..', 'seeds');
}

function cmdDemo(argv: string[]): number {
  const file = argv[0] ?? join(seedsDir(), 'hello.xasm');
  const result = assembleFile(file);
  printDiagnostics(result);
  if (!result.ok) return 1;
  const elf = writeElf32(result.image, { compDir: dirname(file) });
  process.stdout.write(`xenolab: assembled ${file}\n\n`);
  process.stdout.write(describeImage(result.image, elf.length));
  process.stdout.write('\n');
  const text = disassembleFile(elf, 0, file);
  process.stdout.write(typeof text === 'string' ? text : `error: ${text.error}\n`);
  return 0;
}

function cmdRun(argv: string[], list = false): number {
  const args: RunArgs = { maxCycles: list ? 10_000_000 : 100_000_000, memoryKiB: 16384, vcpus: 1, traceHypercalls: false, list };
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || !/^\d+$/.test(v)) throw new UsageError(`${a} needs a number`);
      return Number(v);
    };
    if (a === '--max-cycles') args.maxCycles = value();
    else if (a === '--memory') args.memoryKiB = value();
    else if (a === '--vcpus') args.vcpus = value();
    else if (a === '--debug-xen') args.debugXen = true;
    else if (a === '--trace') {
      if (argv[++i] !== 'hypercalls') throw new UsageError('--trace takes: hypercalls');
      args.traceHypercalls = true;
    } else if (a.startsWith('-')) throw new UsageError(`unknown option '${a}'`);
    else files.push(a);
  }
  if (files.length === 0) files.push(join(seedsDir(), 'hello.xasm'));
  // Kernels, ELF files and xl.cfg files load as the debugger loads them; disks are the files themselves.
  // Includes are searched as nasm does: next to the including file, then in the current directory.
  const loaded = loadLaunch({ program: files.map((f) => resolve(f)), memoryKiB: args.memoryKiB, vcpus: args.vcpus, includeDirs: [process.cwd()] }, nodeFiles, {
    writeBack: (path, bytes) => writeFileSync(path, bytes),
  });
  for (const w of loaded.warnings) process.stderr.write(formatLaunchError(w) + '\n');
  if (!loaded.ok) {
    for (const e of loaded.errors) process.stderr.write(formatLaunchError(e) + '\n');
    return 1;
  }
  return runDomains(loaded.domains.map((d) => d.spec), args, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
}

function cmdLint(argv: string[]): number {
  const files: string[] = [];
  const rules: Record<string, 'error' | 'warning' | 'info' | 'hint' | 'off'> = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--rule') {
      const m = /^([\w-]+)=(error|warning|info|hint|off)$/.exec(argv[++i] ?? '');
      if (!m) throw new UsageError('--rule takes CODE=SEVERITY (error, warning, info, hint or off)');
      rules[m[1]] = m[2] as (typeof rules)[string];
    } else if (argv[i].startsWith('-')) throw new UsageError(`unknown option '${argv[i]}'`);
    else files.push(argv[i]);
  }
  if (files.length === 0) throw new UsageError('lint needs files');
  return lint(files, { rules });
}

function cmdXenInc(argv: string[]): number {
  const text = builtinInclude(XEN_INCLUDE_NAME) ?? '';
  const o = argv.indexOf('-o');
  if (o >= 0) {
    const out = argv[o + 1];
    if (!out) throw new UsageError('-o needs a file name');
    writeFileSync(out, text);
  } else process.stdout.write(text);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'asm': return cmdAsm(rest);
      case 'disasm': return cmdDisasm(rest);
      case 'run': case undefined: return cmdRun(rest);
      case 'list': return cmdRun(rest, true);
      case 'demo': return cmdDemo(rest);
      case 'xen-inc': return cmdXenInc(rest);
      case 'dap': return await serveDap();
      case 'lsp':
        if (rest[0] !== '--stdio') throw new UsageError('lsp speaks over stdio: xenolab lsp --stdio');
        return await serveLsp();
      case 'lint': return cmdLint(rest);
      case 'help': case '--help': case '-h':
        process.stdout.write(USAGE);
        return 0;
      default:
        throw new UsageError(`unknown command '${cmd}'`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`xenolab: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
}
