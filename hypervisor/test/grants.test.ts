// Grant tables between two domains: a granter fills its table, a mapper maps, reads and
// writes the granted frame, copies through grants, and every misuse gets Xen's GNTST_*
// status; the isolation invariants hold after every hypercall, grants included.

import { describe, expect, it } from 'vitest';
import { assemble } from '../../asm/src/assembler.js';
import { withBuiltins } from '../../asm/src/builtins.js';
import { guestImage } from '../../cli/src/run.js';
import { k } from '../src/xen/abi.js';
import type { Domain } from '../src/xen/domain.js';
import { GNTST } from '../src/xen/grant-table.js';
import { checkInvariants } from '../src/xen/invariants.js';
import { Xen } from '../src/xen/xen.js';
import { GRANT_TABLE_DATA, GRANTER, MAPPER, SETUP_GRANT_TABLE } from './grant-guests.js';
import { kernel } from './guest.js';

function build(xen: Xen, source: string, name: string): Domain {
  const r = assemble({ path: `${name}.xasm`, text: source, provider: withBuiltins({ read: () => null }) });
  if (!r.ok) throw new Error(r.diagnostics.map((x) => x.message).join('\n'));
  const built = xen.createDomain(guestImage(r.image), { name, memoryKiB: 4096 });
  if ('error' in built) throw new Error(built.error);
  return built.domain;
}

const symbolOf = (source: string) => {
  const r = assemble({ path: 'x.xasm', text: source, provider: withBuiltins({ read: () => null }) });
  return (name: string) => r.image.symbols.find((s) => s.name === name)!.value;
};

describe('grant tables (v1)', () => {
  it("a domain maps, reads and writes what another granted it; every misuse gets Xen's status", () => {
    const xen = new Xen(8192);
    const violations: string[] = [];
    xen.onHypercall = () => {
      const doms = [...xen.domains.values()];
      const held = doms.flatMap((d) => [d.active.baseMfn, ...d.active.gdtFrames]);
      const devices = doms.flatMap((d) => d.grants.maptrack.filter((m) => m !== null && m.pte < 0).map((m) => ({ frame: m!.frame, readonly: m!.readonly })));
      violations.push(...checkInvariants(xen.mm, held, devices));
    };
    const granter = build(xen, GRANTER, 'granter');
    expect(xen.run(granter, 1_000_000)).toEqual({ kind: 'ended' });
    expect(granter.state).toEqual({ kind: 'shutdown', reason: 0 });
    const mapper = build(xen, MAPPER, 'mapper');
    expect(xen.run(mapper, 1_000_000)).toEqual({ kind: 'ended' });
    expect(mapper.state).toEqual({ kind: 'shutdown', reason: 0 });
    expect(violations).toEqual([]);

    const at = symbolOf(MAPPER);
    const r32 = (name: string, off = 0) => mapper.read32(at(name) + off)! | 0;
    const st = (name: string, size: number, statusAt: number, i: number) => (mapper.read(at(name) + i * size + statusAt, 2)![0] | (mapper.read(at(name) + i * size + statusAt, 2)![1] << 8)) << 16 >> 16;
    expect([r32('r_map'), r32('r_bad'), r32('r_unmap'), r32('r_copy'), r32('r_query')]).toEqual([0, 0, 0, 0, 0]);
    expect(r32('r_unknown')).toBe(-38); // GNTTABOP_transfer: ENOSYS here
    expect(r32('r_overwrite')).toBe(-22);
    expect(st('map_rw', 32, 18, 0)).toBe(GNTST.okay);
    expect(r32('seen') >>> 0).toBe(0x600dcafe);
    // The write through the grant reached domain 1's frame.
    const grantedFrame = xen.mm.mem.read32(granter.grants.frames[0] * 4096 + 8 * 8 + 4);
    expect(xen.mm.frames.owner[grantedFrame]).toBe(granter.domain);
    expect(xen.mm.mem.read32(grantedFrame * 4096)).toBe(0x12345678);
    expect([0, 1, 2, 3, 4, 5].map((i) => st('bad_maps', 32, 18, i))).toEqual([
      GNTST.bad_gntref, GNTST.general_error, GNTST.general_error, GNTST.bad_domain, GNTST.bad_gntref, GNTST.okay,
    ]);
    expect([0, 1, 2].map((i) => st('unmaps', 24, 20, i))).toEqual([GNTST.bad_handle, GNTST.okay, GNTST.bad_handle]);
    expect([0, 1, 2, 3].map((i) => st('copies', 24, 20, i))).toEqual([GNTST.okay, GNTST.bad_copy_arg, GNTST.permission_denied, GNTST.general_error]);
    expect(mapper.read32(at('copy_dst') + 16)).toBe(0x12345678);
    // Its accounting: 1 + 6 maps, 3 unmaps, 4 copies, 2 queries (the unknown command is none); 4 bytes copied.
    expect(mapper.counters.io).toMatchObject({ grantOps: 16, bytesMoved: 4 });
    expect([0, 1].map((i) => st('queries', 16, 12, i))).toEqual([GNTST.okay, GNTST.permission_denied]);
    expect([r32('queries', 4), r32('queries', 8)]).toEqual([0, 32]);
    // Domain 1 sees which grants are in use: ref 8 no longer (unmapped), ref 9 mapped for reading.
    const flags = (ref: number) => xen.mm.mem.read16(granter.grants.frames[0] * 4096 + ref * 8);
    expect(flags(8)).toBe(k('GTF_permit_access'));
    expect(flags(9)).toBe(k('GTF_permit_access') | k('GTF_readonly') | k('GTF_reading'));
    // The read-only mapping is a read-only PTE of the mapper onto domain 1's frame.
    expect(mapper.grants.maptrack.filter((m) => m !== null).map((m) => ({ ref: m!.ref, readonly: m!.readonly }))).toEqual([{ ref: 9, readonly: true }]);
  });
});

describe('code in a granted page', () => {
  it('a domain runs the new code another domain wrote into a page it granted (decoded code is dropped on every CPU)', () => {
    const A = kernel(`${SETUP_GRANT_TABLE}
    mov eax, codepage - 0xC0000000
    shr eax, 12
    mov ebx, [esi + start_info.mfn_list]
    mov eax, [ebx + eax * 4]
    mov [gtab + 8 * 8 + grant_entry_v1.frame], eax
    mov word [gtab + 8 * 8 + grant_entry_v1.domid], 2
    mov word [gtab + 8 * 8 + grant_entry_v1.flags], GTF_permit_access
    mov edi, 100000                      ; give up after this many rounds
.again:
    call codepage                        ; hot enough to be compiled
    cmp eax, 2
    je poweroff
    mov ebx, SCHEDOP_yield
    HYPERCALL sched_op
    dec edi
    jnz .again
    mov dword [reason], SHUTDOWN_crash
    jmp poweroff
align 4096, db 0
gtab: times 4096 db 0
codepage:
    mov eax, 1
    ret
align 4096, db 0`, GRANT_TABLE_DATA);
    const B = kernel(`
    mov ebx, GNTTABOP_map_grant_ref
    mov ecx, map
    mov edx, 1
    HYPERCALL grant_table_op
    cmp word [map + 18], 0
    jne .failed
    mov byte [window + 1], 2             ; mov eax, 1 becomes mov eax, 2
    jmp poweroff
.failed:
    mov dword [reason], SHUTDOWN_crash
    jmp poweroff
align 4096, db 0
window: times 4096 db 0`, `map: dd window, 0, GNTMAP_host_map, 8
    dw 1, 0
    dd 0, 0, 0`);
    const xen = new Xen(8192);
    const a = build(xen, A, 'a');
    const b = build(xen, B, 'b');
    a.cpu.jitThreshold = 1;
    expect(xen.runAll(100_000_000)).toEqual({ kind: 'ended' });
    expect([a.state, b.state]).toEqual([{ kind: 'shutdown', reason: 0 }, { kind: 'shutdown', reason: 0 }]);
  });
});
