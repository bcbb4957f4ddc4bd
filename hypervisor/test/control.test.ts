// Dom0's control interface: pause and unpause, parameters, and destruction giving every
// frame back with the invariants intact.

import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assemble } from '../../asm/src/assembler.js';
import { withBuiltins } from '../../asm/src/builtins.js';
import { guestImage } from '../../cli/src/run.js';
import { EBUSY, EINVAL } from '../src/xen/abi.js';
import { destroyDomain, pauseDomain, setMaxMemory, setSchedParams, unpauseDomain } from '../src/xen/control.js';
import type { Domain } from '../src/xen/domain.js';
import { NO_OWNER } from '../src/xen/frames.js';
import { checkInvariants } from '../src/xen/invariants.js';
import { RoundRobin } from '../src/xen/sched.js';
import { Xen } from '../src/xen/xen.js';
import { GRANTER, MAPPER } from './grant-guests.js';
import { kernel } from './guest.js';

function build(xen: Xen, source: string, name: string, path = `${name}.xasm`): Domain {
  const r = assemble({ path, text: source, provider: withBuiltins({ read: () => null }) });
  if (!r.ok) throw new Error(r.diagnostics.map((x) => x.message).join('\n'));
  const built = xen.createDomain(guestImage(r.image), { name, memoryKiB: 4096 });
  if ('error' in built) throw new Error(built.error);
  return built.domain;
}

const invariants = (xen: Xen) => {
  const doms = [...xen.domains.values()];
  return checkInvariants(xen.mm, doms.flatMap((d) => [d.active.baseMfn, ...d.active.gdtFrames]));
};
const framesOf = (xen: Xen, id: number) => Array.from(xen.frames.owner).filter((o) => o === id).length;

describe('the control interface', () => {
  it('a paused domain is not scheduled; unpaused, it runs again', () => {
    const xen = new Xen(8192);
    xen.policy = new RoundRobin(1_000_000);
    const a = build(xen, kernel('    jmp $'), 'a'), b = build(xen, kernel('    jmp $'), 'b');
    pauseDomain(xen, b);
    xen.runAll(10_000_000);
    expect([a.counters.cycles, b.counters.cycles]).toEqual([10_000_000, 0]);
    unpauseDomain(xen, b);
    xen.runAll(10_000_000);
    expect([a.counters.cycles, b.counters.cycles]).toEqual([15_000_000, 5_000_000]);
    pauseDomain(xen, a);
    pauseDomain(xen, b);
    expect(xen.runAll(1000)).toEqual({ kind: 'idle' });
  });

  it('scheduling parameters and the memory limit are checked', () => {
    const xen = new Xen(8192);
    const a = build(xen, kernel('    jmp $'), 'a');
    expect(setSchedParams(a, { weight: 0 })).toBe(EINVAL);
    expect(setSchedParams(a, { weight: 3, warp: 2 })).toBe(0);
    expect(a.sched).toEqual({ weight: 3, warp: 2, warpLimit: 0, unwarpRequirement: 0 });
    expect(setMaxMemory(a, a.pages - 1)).toBe(EINVAL);
    expect(setMaxMemory(a, a.pages + 16)).toBe(0);
    expect(a.maxPages).toBe(a.pages + 16);
  });

  it('destroying a domain frees all its frames and its store tree; not while another maps its grants', () => {
    const xen = new Xen(8192);
    const free0 = framesOf(xen, NO_OWNER);
    const granter = build(xen, GRANTER, 'granter');
    xen.run(granter, 1_000_000);
    const mapper = build(xen, MAPPER, 'mapper');
    xen.run(mapper, 1_000_000);
    expect(invariants(xen)).toEqual([]);
    expect(destroyDomain(xen, granter)).toBe(EBUSY); // the mapper still maps ref 9
    expect(destroyDomain(xen, mapper)).toBe(0);
    expect(invariants(xen)).toEqual([]);
    expect(framesOf(xen, mapper.domain)).toBe(0);
    expect(xen.mm.grantPtes.size).toBe(0);
    expect(destroyDomain(xen, granter)).toBe(0);
    expect(invariants(xen)).toEqual([]);
    expect(framesOf(xen, NO_OWNER)).toBe(free0);
    expect(Array.from(xen.frames.refs).filter((r, mfn) => r !== 0 && xen.frames.owner[mfn] === NO_OWNER)).toEqual([]);
    expect(xen.xenstored.store.directory(0, 0, '/local/domain')).toEqual([]);
    expect(xen.domains.size).toBe(0);
  });

  it.each(['pagetables', 'events', 'traps'])('destroying a domain after the %s seed ran frees everything it had', (seed) => {
    const xen = new Xen(8192);
    const free0 = framesOf(xen, NO_OWNER);
    const path = join(import.meta.dirname, '..', '..', 'seeds', `${seed}.xasm`);
    const d = build(xen, readFileSync(path, 'utf8'), seed, path);
    expect(xen.run(d, 100_000_000)).toEqual({ kind: 'ended' });
    expect(destroyDomain(xen, d)).toBe(0);
    expect(invariants(xen)).toEqual([]);
    expect(framesOf(xen, NO_OWNER)).toBe(free0);
  });
});
