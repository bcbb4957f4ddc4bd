// Hypercall counts per source line (the code lenses' data): the seeds booted as the
// adapter boots them, every hypercall counted at the line that made it, whether through
// `int 0x82` (the HYPERCALL macro) or a call into the hypercall page.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeFiles } from '../../cli/src/nodeProvider.js';
import { bootMachine } from '../../hypervisor/src/xen/boot.js';
import { loadLaunch } from '../src/launch.js';
import { Program } from '../src/program.js';
import { HypercallSites, hypercallPageOf } from '../src/sites.js';

const seeds = join(import.meta.dirname, '..', '..', 'seeds');

/** Runs a launch to its end with the sites recorded, as the session records them. */
function run(...program: string[]) {
  const loaded = loadLaunch({ program }, nodeFiles);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
  const machine = bootMachine(loaded.domains.map((d) => d.spec));
  if ('error' in machine) throw new Error(machine.error);
  const programs = new Map(machine.domains.map((d, i) => [d.domain, new Program(loaded.domains[i].image, loaded.domains[i].callSites)]));
  const pages = new Map(machine.domains.map((d, i) => [d, hypercallPageOf(loaded.domains[i].image.notes)]));
  const sites = new HypercallSites();
  machine.xen.onHypercall = (d, n, _a, r) => sites.record(d, pages.get(d)!, n, r);
  expect(machine.xen.runAll(200_000_000).kind).toBe('ended');
  const total = machine.domains[0].counters.hypercalls.reduce((a, b) => a + b, 0);
  const locate = (domain: number, address: number) => programs.get(domain)!.locate(address);
  return { body: sites.body(locate), total, sites, locate, machine, pages };
}

const lineOf = (file: string, text: string) => readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(text)) + 1;

describe('hypercall sites', () => {
  it('counts the page-table loop of pagetables at its HYPERCALL_PAGE_CALL line: 1024 single-entry mmu_updates', () => {
    const file = join(seeds, 'pagetables.xasm');
    const { body, total } = run(file);
    expect(body.unlocated).toBe(0);
    expect(body.sites.reduce((n, s) => n + s.count, 0)).toBe(total);
    const lines = readFileSync(file, 'utf8').split('\n');
    for (const s of body.sites) {
      expect(s.file).toBe(file);
      expect(lines[s.line - 1]).toMatch(/HYPERCALL/);
    }
    const loop = body.sites.find((s) => s.line === 93)!;
    expect(lines[92]).toContain('HYPERCALL_PAGE_CALL mmu_update');
    expect(loop).toEqual({ domain: 1, file, line: 93, count: 1024, byHypercall: { mmu_update: 1024 }, errors: 0 });
  });

  it('places int 0x82 calls (the HYPERCALL macro) and hypercall-page calls alike', () => {
    const file = join(seeds, 'hello.xasm');
    const { body, total } = run(file);
    expect(body.sites.reduce((n, s) => n + s.count, 0)).toBe(total);
    const at = (text: string) => body.sites.find((s) => s.line === lineOf(file, text));
    expect(at('HYPERCALL console_io')).toMatchObject({ count: 1, byHypercall: { console_io: 1 } });
    expect(at('HYPERCALL_PAGE_CALL set_trap_table')).toMatchObject({ count: 1, byHypercall: { set_trap_table: 1 } });
    expect(at('HYPERCALL_PAGE_CALL sched_op')).toMatchObject({ count: 1, byHypercall: { sched_op: 1 } });
  });

  it('counts errors, and one domain when asked for one', () => {
    expect(new HypercallSites().body(() => null)).toEqual({ sites: [], unlocated: 0 });
    const { sites, locate, machine, pages } = run(join(seeds, 'pingpong', 'ping.cfg'), join(seeds, 'pingpong', 'pong.cfg'));
    const all = sites.body(locate);
    expect(new Set(all.sites.map((s) => s.domain))).toEqual(new Set([1, 2]));
    expect(sites.body(locate, 2).sites).toEqual(all.sites.filter((s) => s.domain === 2));
    // dom1's vCPU stands after its last hypercall: one more there, failing with EINVAL
    const d = machine.domains[0];
    const last = (body: ReturnType<typeof sites.body>) => body.sites.find((s) => s.domain === 1 && s.line === locate(1, d.active.cpu.eip - 2)!.line)!;
    const before = last(sites.body(locate, 1));
    sites.record(d, pages.get(d)!, 1, -22);
    expect(last(sites.body(locate, 1))).toMatchObject({ count: before.count + 1, errors: before.errors + 1 });
  });
});
