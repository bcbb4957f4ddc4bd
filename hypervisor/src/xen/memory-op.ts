// memory_op: ballooning (xen/common/memory.c), for a PV guest that names its frames by
// machine frame number.

import { DOMID_SELF, EFAULT, EINVAL, ENOSYS, EPERM, field, k, MAX_BATCH, sizeOf } from './abi.js';
import type { Domain } from './domain.js';
import type { Xen } from './xen.js';

const XENMEM_increase_reservation = k('XENMEM_increase_reservation');
const XENMEM_decrease_reservation = k('XENMEM_decrease_reservation');
const XENMEM_current_reservation = k('XENMEM_current_reservation');
const XENMEM_maximum_reservation = k('XENMEM_maximum_reservation');

/**
 * memory_op: ballooning. decrease_reservation gives frames back (a PV guest names them by
 * machine frame; one still mapped or in use as a table stops the batch there);
 * increase_reservation takes frames up to the domain's maximum and writes their numbers
 * back. Both return how many extents they did.
 */
export function memoryOp(x: Xen, d: Domain, cmd: number, arg: number): number {
  if (cmd === XENMEM_current_reservation || cmd === XENMEM_maximum_reservation) {
    const dom = d.read(arg, 2);
    if (!dom) return EFAULT;
    const id = dom[0] | (dom[1] << 8);
    if (id !== DOMID_SELF && id !== d.domain) return EPERM;
    return cmd === XENMEM_current_reservation ? d.pages : d.maxPages;
  }
  if (cmd !== XENMEM_increase_reservation && cmd !== XENMEM_decrease_reservation) return ENOSYS;
  const r = d.read(arg, sizeOf('xen_memory_reservation'));
  if (!r) return EFAULT;
  const v = new DataView(r.buffer);
  const list = v.getUint32(field('xen_memory_reservation', 'extent_start'), true);
  const count = v.getUint32(field('xen_memory_reservation', 'nr_extents'), true);
  const order = v.getUint32(field('xen_memory_reservation', 'extent_order'), true);
  const dom = v.getUint16(field('xen_memory_reservation', 'domid'), true);
  if (dom !== DOMID_SELF && dom !== d.domain) return EPERM;
  if (order !== 0 || count > MAX_BATCH) return EINVAL; // single pages only
  const f = x.frames;
  let done = 0;
  for (; done < count; done++) {
    const at = list + done * 4;
    if (cmd === XENMEM_decrease_reservation) {
      const mfn = d.read32(at);
      if (mfn === null) return done === 0 ? EFAULT : done;
      if (!(mfn < f.count) || f.owner[mfn] !== d.domain || f.refs[mfn] !== 1 || f.typeRefs[mfn] !== 0 || d.inUseByXen(mfn)) break;
      f.free(mfn);
      d.pages--;
    } else {
      if (d.pages >= d.maxPages) break;
      const got = f.allocate(d.domain, 1);
      if (!got) break;
      if (!d.write32(at, got[0])) {
        f.free(got[0]);
        return done === 0 ? EFAULT : done;
      }
      d.pages++;
    }
  }
  return done;
}
