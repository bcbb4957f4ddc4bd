// The editor integration's logic: which registers a line names (inline values), the
// status bar's words for a recorded `xen/domains` answer, and the last run's code lenses
// from `xen/hypercallSites`.

import { describe, expect, it } from 'vitest';
import type { DomainsBody, HypercallSitesBody } from '../../protocol/src/index.js';
import { domainsStatus, runningStatus } from '../src/editor/domains-status.js';
import { registerMentions } from '../src/editor/registers.js';
import { runLenses } from '../src/editor/run-lenses.js';
import { fixture } from './fixtures.js';

describe('registerMentions', () => {
  it('finds each register once, in order, whatever its case', () => {
    expect(registerMentions('    mov [edi + xencons_interface.out + ecx], AL')).toEqual([
      { name: 'edi', start: 9, end: 12 }, { name: 'ecx', start: 39, end: 42 }, { name: 'al', start: 45, end: 47 },
    ]);
    expect(registerMentions('    add eax, eax').map((r) => r.name)).toEqual(['eax']);
    expect(registerMentions('    mov cr3, eax').map((r) => r.name)).toEqual(['cr3', 'eax']);
  });

  it('skips comments, strings, labels and longer names', () => {
    expect(registerMentions('    mov ebx, esp_saved ; restores esp')).toEqual([{ name: 'ebx', start: 8, end: 11 }]);
    expect(registerMentions('msg: db "eax is", 10')).toEqual([]);
    expect(registerMentions('.eax: jmp start_info.esp')).toEqual([]);
  });
});

describe('domainsStatus', () => {
  it('names the one domain of a recorded single-domain stop, with xl list columns in the tooltip', () => {
    const [first, later] = fixture('pagetables');
    const s = domainsStatus(first.domains);
    const d = first.domains.domains[0];
    expect(s.text).toBe(`$(server-process) dom${d.id} ${d.name}: ${d.state === 'shutdown' ? `shut down (${d.shutdownReason})` : d.state}`);
    expect(s.tooltip).toContain('| ID | Name | State | vCPUs | Pages | Hypercalls |');
    expect(s.tooltip).toContain(`| ${d.id} | ${d.name} |`);
    expect(s.tooltip).toContain(`| ${d.counters.hypercalls.toLocaleString('en-US')} |`);
    expect(domainsStatus(later.domains).tooltip).not.toBe(s.tooltip);
  });

  it('counts the domains of a recorded two-domain stop by state', () => {
    for (const stop of fixture('pingpong')) {
      const body = stop.domains;
      const s = domainsStatus(body);
      expect(s.text).toMatch(new RegExp(`^\\$\\(server-process\\) ${body.domains.length} domains: `));
      const listed = [...s.text.matchAll(/(\d+) (running|blocked|paused|shut down|crashed)/g)].reduce((n, m) => n + Number(m[1]), 0);
      expect(listed).toBe(body.domains.length);
      for (const d of body.domains) expect(s.tooltip).toContain(`| ${d.id} | ${d.name} |`);
    }
  });

  it('puts crashes first, with a different icon, and keeps guest-chosen names from making markup', () => {
    const [{ domains }] = fixture('pingpong');
    const crashed: DomainsBody = { ...domains, domains: [{ ...domains.domains[0], name: 'a|b*', state: 'crashed', crashReason: 'general protection fault' }, domains.domains[1]] };
    const s = domainsStatus(crashed);
    expect(s.text).toMatch(/^\$\(error\) 2 domains: 1 crashed, /);
    expect(s.tooltip).toContain('a\\|b\\*');
    expect(s.tooltip).toContain('crashed — general protection fault');
    expect(runningStatus().text).toMatch(/running/);
  });
});

describe('runLenses', () => {
  const body: HypercallSitesBody = {
    unlocated: 0,
    sites: [
      { domain: 1, file: '/ws/pagetables.xasm', line: 93, count: 1024, byHypercall: { mmu_update: 1024 }, errors: 0 },
      { domain: 1, file: '/ws/pagetables.xasm', line: 129, count: 2, byHypercall: { console_io: 1, sched_op: 1 }, errors: 1 },
      { domain: 2, file: '/ws/pagetables.xasm', line: 129, count: 1, byHypercall: { console_io: 1 }, errors: 0 },
      { domain: 1, file: '/ws/other.xasm', line: 5, count: 7, byHypercall: { sched_op: 7 }, errors: 0 },
    ],
  };

  it('puts the count above each line of the document that made hypercalls (0-based lines)', () => {
    const lenses = runLenses(body, '/ws/pagetables.xasm');
    expect(lenses.map((l) => [l.line, l.title])).toEqual([
      [92, 'last run: 1,024 × mmu_update'],
      [128, 'last run: 3 hypercalls (console_io ×2, sched_op ×1), 1 failed (2 domains)'],
    ]);
    expect(lenses[0].tooltip).toMatch(/mmu_update ×1,024/);
    expect(runLenses(body, '/ws/none.xasm')).toEqual([]);
  });
});
