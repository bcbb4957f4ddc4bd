// Run control over time: stepping back and reverse-continuing land on states equal,
// register for register and byte for byte, to those the machine passed through going forward.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeFiles } from '../../cli/src/nodeProvider.js';
import { bootMachine } from '../../hypervisor/src/xen/boot.js';
import { DebugMachine, type StopPolicy } from '../src/machine.js';
import { loadLaunch } from '../src/launch.js';
import { Program } from '../src/program.js';

const SEEDS = join(__dirname, '..', '..', 'seeds');

function boot(...programs: string[]) {
  const r = loadLaunch({ program: programs.map((p) => join(SEEDS, p)) }, nodeFiles);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  const m = bootMachine(r.domains.map((d) => d.spec));
  if ('error' in m) throw new Error(m.error);
  return { m, programs: r.domains.map((d) => new Program(d.image, d.callSites)) };
}

/** The whole machine: memory, the clock and every vCPU's registers. */
function state(dm: DebugMachine): string {
  let h = 0x811c9dc5;
  const w = dm.xen.mem.words;
  for (let k = 0; k < w.length; k++) h = Math.imul(h ^ w[k], 0x01000193);
  return JSON.stringify({ now: dm.xen.now, mem: h >>> 0, cpus: dm.vcpus.map((v) => v.cpu.state()) });
}

const STOP_ALL: StopPolicy = { breakpoint: () => true, event: () => false };

describe('debug machine', () => {
  for (const [name, programs] of [['events', ['events.xasm']], ['pingpong', ['pingpong/ping.cfg', 'pingpong/pong.cfg']], ['smp', ['smp/smp.cfg']]] as const) {
    it(`${name}: step back retraces single steps exactly, across snapshots`, async () => {
      const { m } = boot(...programs);
      const dm = new DebugMachine(m, Infinity, 600, 0); // snapshots every 600 cycles: steps back cross several
      // Get going first (boot, timers), then step one vCPU and remember every state.
      await dm.forward(STOP_ALL, { cycles: 3000 });
      const v = dm.vcpus[0];
      // From the first step on: a step back goes to where the vCPU was between two
      // instructions, which a stop at a time (as above) need not be.
      expect((await dm.stepInstruction(v, STOP_ALL)).kind).toBe('step');
      const seen: string[] = [state(dm)];
      let last = 'step';
      for (let i = 0; i < 100 && last === 'step'; i++) {
        last = (await dm.stepInstruction(v, STOP_ALL)).kind;
        seen.push(state(dm)); // the last may be where the domain ended
      }
      expect(seen.length).toBeGreaterThan(50);
      expect(dm.snapshotStats.snapshots).toBeGreaterThan(3);
      for (let i = seen.length - 2; i >= 0; i--) {
        expect(dm.stepBack(v).kind).toBe('step');
        expect(state(dm), `back to step ${i}`).toBe(seen[i]);
      }
      // And forwards again from the past: the same states (the future was dropped and is made anew).
      for (let i = 1; i < 20; i++) {
        await dm.stepInstruction(v, STOP_ALL);
        expect(state(dm)).toBe(seen[i]);
      }
    });
  }

  it('reverse-continue lands on each earlier breakpoint hit, in reverse order', async () => {
    const { m, programs } = boot('pingpong/ping.cfg', 'pingpong/pong.cfg');
    const dm = new DebugMachine(m, Infinity, 200_000, 0);
    // A breakpoint where ping sends its token: hit once a round, between the other domain's turns.
    const ping = m.domains[0];
    const address = programs[0].symbol('send_token')!;
    for (const v of ping.vcpus) v.cpu.addBreakpoint(address);
    const hits: string[] = [];
    for (let i = 0; i < 4; i++) {
      expect((await dm.forward(STOP_ALL)).kind).toBe('breakpoint');
      hits.push(state(dm));
    }
    for (let i = hits.length - 2; i >= 0; i--) {
      const s = dm.reverse(STOP_ALL);
      expect(s.kind).toBe('breakpoint');
      expect(state(dm), `hit ${i}`).toBe(hits[i]);
    }
    expect(dm.reverse(STOP_ALL).kind).toBe('beginning');
    // Forward from the beginning meets the first hit again.
    expect((await dm.forward(STOP_ALL)).kind).toBe('breakpoint');
    expect(state(dm)).toBe(hits[0]);
  });
});
