// Where a run's hypercalls come from, for code lenses ("this loop made 1,024 hypercalls"):
// counts per call site, never dropped (the hypercall log is bounded), resolved to source
// lines only when asked. The site is the `int 0x82`; for a call through the hypercall page
// it is the call into the page, found by the return address the stub will use.

import { noteNumber } from '../../asm/src/index.js';
import { hypercallByNumber, xenElfNote } from '../../isa/src/index.js';
import { ESP } from '../../hypervisor/src/cpu.js';
import type { Domain } from '../../hypervisor/src/xen/domain.js';
import type { HypercallSiteInfo, HypercallSitesBody } from '../../protocol/src/index.js';
import { readValue } from './guestmem.js';
import type { Location } from './program.js';
import { errnoName } from './views.js';

/** XEN_ELFNOTE_HYPERCALL_PAGE's value: the page Xen fills with `mov eax, N; int 0x82; ret` stubs. */
export type HypercallPage = { start: number } | null;

interface Site {
  domain: number;
  address: number;
  byNumber: Map<number, number>;
  errors: number;
}

export class HypercallSites {
  /** By domain * 2^32 + address. */
  private readonly sites = new Map<number, Site>();

  /**
   * Counts a hypercall domain `d`'s active vCPU has just made (its EIP is after the
   * `int 0x82`). `page` is the domain's hypercall page.
   */
  record(d: Domain, page: HypercallPage, nr: number, result: number): void {
    const v = d.active;
    let address = (v.cpu.eip - 2) >>> 0;
    if (page !== null && address - page.start >>> 0 < 4096) {
      // In a stub, before its `ret`: the return address is on top of the stack, just after the call.
      const ret = readValue(v, v.cpu.regs[ESP] >>> 0, 4);
      if (ret !== null) address = (ret - 1) >>> 0;
    }
    const key = d.domain * 2 ** 32 + address;
    let site = this.sites.get(key);
    if (site === undefined) this.sites.set(key, (site = { domain: d.domain, address, byNumber: new Map(), errors: 0 }));
    site.byNumber.set(nr, (site.byNumber.get(nr) ?? 0) + 1);
    if (errnoName(result) !== undefined) site.errors++;
  }

  /** Counts per source line (`locate` says where an address of a domain's code is written), of one domain if given. */
  body(locate: (domain: number, address: number) => Location | null, domain?: number): HypercallSitesBody {
    const byLine = new Map<string, HypercallSiteInfo>();
    let unlocated = 0;
    for (const s of this.sites.values()) {
      if (domain !== undefined && s.domain !== domain) continue;
      const count = [...s.byNumber.values()].reduce((a, b) => a + b, 0);
      const at = locate(s.domain, s.address);
      if (at === null) {
        unlocated += count;
        continue;
      }
      const key = `${s.domain}:${at.line}:${at.file}`;
      let info = byLine.get(key);
      if (info === undefined) byLine.set(key, (info = { domain: s.domain, file: at.file, line: at.line, count: 0, byHypercall: {}, errors: 0 }));
      info.count += count;
      info.errors += s.errors;
      for (const [nr, n] of s.byNumber) {
        const name = hypercallByNumber(nr)?.name ?? `hypercall ${nr}`;
        info.byHypercall[name] = (info.byHypercall[name] ?? 0) + n;
      }
    }
    const sites = [...byLine.values()].sort((a, b) => a.domain - b.domain || a.file.localeCompare(b.file) || a.line - b.line);
    return { sites, unlocated };
  }
}

/** A program's hypercall page, from its XEN_ELFNOTE_HYPERCALL_PAGE note. */
export function hypercallPageOf(notes: readonly { type: number; desc: Uint8Array }[]): HypercallPage {
  const note = notes.find((n) => n.type === HYPERCALL_PAGE_NOTE);
  const start = note === undefined ? null : noteNumber(note.desc);
  return typeof start === 'number' ? { start } : null;
}

const HYPERCALL_PAGE_NOTE = xenElfNote('XEN_ELFNOTE_HYPERCALL_PAGE')!.value;
