// physdev_op (xen/arch/x86/physdev.c) for a PV domain that owns no physical device: every
// guest here, since dom0's backends are the simulator's own. A kernel may set its virtual
// IOPL and its I/O permission bitmap, which Xen consults before it emulates in/out
// (emulate.ts); it may ask about and acknowledge physical IRQs, none of which is ever
// bound to it; what needs a privileged domain is EPERM. The operations about MSI, the
// EOI page and free PIRQs are not modelled (ENOSYS): nothing here raises a physical IRQ.

import { EFAULT, EINVAL, ENOSYS, EPERM, field, k } from './abi.js';
import type { Domain } from './domain.js';

const PHYSDEVOP_set_iopl = k('PHYSDEVOP_set_iopl');
const PHYSDEVOP_set_iobitmap = k('PHYSDEVOP_set_iobitmap');
const PHYSDEVOP_irq_status_query = k('PHYSDEVOP_irq_status_query');
const PHYSDEVOP_eoi = k('PHYSDEVOP_eoi');
/** Operations Xen allows only the hardware domain or a device model. */
const PRIVILEGED = new Set(
  ['apic_read', 'apic_write', 'alloc_irq_vector', 'free_irq_vector', 'map_pirq', 'unmap_pirq', 'manage_pci_add', 'manage_pci_remove',
    'manage_pci_add_ext', 'setup_gsi', 'pci_mmcfg_reserved', 'pci_device_add', 'pci_device_remove', 'restore_msi', 'restore_msi_ext',
    'prepare_msix', 'release_msix'].map((n) => k(`PHYSDEVOP_${n}`)),
);

/** PIRQs a domU has in Xen: the 16 legacy IRQs of a machine without an IO-APIC, plus 32 (extra_domU_irqs). */
export const NR_PIRQS = 16 + 32;

/** Ports an I/O bitmap may cover. */
const MAX_PORTS = 65536;

const IRQ_STATUS_FLAGS = field('physdev_irq_status_query', 'flags');
const IOBITMAP_NR_PORTS = field('physdev_set_iobitmap', 'nr_ports');

export function physdevOp(d: Domain, cmd: number, arg: number): number {
  switch (cmd) {
    case PHYSDEVOP_set_iopl: {
      const iopl = d.read32(arg);
      if (iopl === null) return EFAULT;
      if (iopl > 3) return EINVAL;
      d.active.iopl = iopl;
      return 0;
    }
    case PHYSDEVOP_set_iobitmap: {
      const bitmap = d.read32(arg), ports = d.read32(arg + IOBITMAP_NR_PORTS);
      if (bitmap === null || ports === null) return EFAULT;
      if (ports > MAX_PORTS) return EINVAL;
      d.active.ioBitmap = { address: bitmap, ports };
      return 0;
    }
    case PHYSDEVOP_irq_status_query: {
      const irq = d.read32(arg);
      if (irq === null) return EFAULT;
      if (irq >= NR_PIRQS) return EINVAL;
      // Not bound, so neither shared nor waiting for an EOI.
      return d.write32(arg + IRQ_STATUS_FLAGS, 0) ? 0 : EFAULT;
    }
    case PHYSDEVOP_eoi: {
      const irq = d.read32(arg);
      if (irq === null) return EFAULT;
      return EINVAL; // out of range, or no PIRQ bound there
    }
    default:
      return PRIVILEGED.has(cmd) ? EPERM : ENOSYS;
  }
}
