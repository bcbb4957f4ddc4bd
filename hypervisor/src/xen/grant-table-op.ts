// grant_table_op(cmd, uop, count): `count` operations of one kind read from the guest
// array at `uop`, each answered with its own GNTST_* status written back into it. The
// hypercall itself fails only when the array cannot be read or written (EFAULT), or the
// command is unknown (ENOSYS).

import { EFAULT, EINVAL, ENOSYS, field, k, MAX_BATCH, sizeOf } from './abi.js';
import type { Domain } from './domain.js';
import { copyGrant, GNTST, mapGrant, querySize, setupTable, unmapGrant, type GrantHost } from './grant-table.js';

const OP = {
  map: k('GNTTABOP_map_grant_ref'),
  unmap: k('GNTTABOP_unmap_grant_ref'),
  setup: k('GNTTABOP_setup_table'),
  copy: k('GNTTABOP_copy'),
  query: k('GNTTABOP_query_size'),
} as const;
const GNTCOPY_source_gref = k('GNTCOPY_source_gref');
const GNTCOPY_dest_gref = k('GNTCOPY_dest_gref');

/** The size of each command's struct, from isa/'s layouts. */
const SIZE = new Map<number, number>([
  [OP.map, sizeOf('gnttab_map_grant_ref')],
  [OP.unmap, sizeOf('gnttab_unmap_grant_ref')],
  [OP.setup, sizeOf('gnttab_setup_table')],
  [OP.copy, sizeOf('gnttab_copy')],
  [OP.query, sizeOf('gnttab_query_size')],
]);

export function grantTableOp(host: GrantHost, d: Domain, cmd: number, uop: number, count: number): number {
  const size = SIZE.get(cmd);
  if (size === undefined) return ENOSYS;
  if (count > MAX_BATCH) return EINVAL;
  for (let i = 0; i < count; i++) {
    const at = (uop + i * size) >>> 0;
    const raw = d.read(at, size);
    if (!raw) return EFAULT;
    d.counters.io.grantOps++;
    const v = new DataView(raw.buffer);
    const u16 = (s: string, f: string) => v.getUint16(field(s, f), true);
    const u32 = (s: string, f: string) => v.getUint32(field(s, f), true);
    const status = (s: string, st: number) => v.setInt16(field(s, 'status'), st, true);
    if (cmd === OP.map) {
      const S = 'gnttab_map_grant_ref';
      const hi = v.getUint32(field(S, 'host_addr') + 4, true);
      const r = hi !== 0 ? GNTST.general_error : mapGrant(host, d, u32(S, 'host_addr'), u32(S, 'flags'), u32(S, 'ref'), u16(S, 'dom'));
      if (typeof r === 'number') status(S, r);
      else {
        status(S, GNTST.okay);
        v.setUint32(field(S, 'handle'), r.handle, true);
        v.setUint32(field(S, 'dev_bus_addr'), r.devBusAddr, true);
        v.setUint32(field(S, 'dev_bus_addr') + 4, 0, true);
      }
    } else if (cmd === OP.unmap) {
      const S = 'gnttab_unmap_grant_ref';
      status(S, unmapGrant(host, d, u32(S, 'host_addr'), u32(S, 'dev_bus_addr'), u32(S, 'handle')));
    } else if (cmd === OP.setup) {
      const S = 'gnttab_setup_table';
      const r = setupTable(host, d, u16(S, 'dom'), u32(S, 'nr_frames'));
      if (typeof r === 'number') status(S, r);
      else {
        const list = new Uint8Array(4 * r.length);
        r.forEach((mfn, j) => new DataView(list.buffer).setUint32(4 * j, mfn, true));
        status(S, d.write(u32(S, 'frame_list'), list) ? GNTST.okay : GNTST.bad_virt_addr);
      }
    } else if (cmd === OP.copy) {
      const S = 'gnttab_copy';
      const flags = u16(S, 'flags');
      const side = (which: 'source' | 'dest', gref: number) => ({
        ref: u32(S, `${which}.u.ref`), domid: u16(S, `${which}.domid`), offset: u16(S, `${which}.offset`), isGrant: (flags & gref) !== 0,
      });
      status(S, copyGrant(host, d, side('source', GNTCOPY_source_gref), side('dest', GNTCOPY_dest_gref), u16(S, 'len')));
    } else {
      const S = 'gnttab_query_size';
      const r = querySize(host, d, u16(S, 'dom'));
      if (typeof r === 'number') status(S, r);
      else {
        v.setUint32(field(S, 'nr_frames'), r.frames, true);
        v.setUint32(field(S, 'max_nr_frames'), r.max, true);
        status(S, GNTST.okay);
      }
    }
    if (!d.write(at, raw)) return EFAULT;
  }
  return 0;
}
