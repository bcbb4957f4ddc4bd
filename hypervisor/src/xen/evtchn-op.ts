// event_channel_op: binding, connecting, notifying and closing event-channel ports
// (xen/common/event_channel.c), on the two-level channels of events.ts.

import { BACKEND_DOMAIN } from './console.js';
import { DOMID_SELF, EEXIST, EFAULT, EINVAL, ENOENT, ENOSPC, ENOSYS, EPERM, ESRCH, field, k } from './abi.js';
import type { Domain } from './domain.js';
import { NR_PORTS } from './events.js';
import { NR_VIRQS } from './vcpu.js';
import type { Xen } from './xen.js';

const EVTCHNOP_bind_interdomain = k('EVTCHNOP_bind_interdomain');
const EVTCHNOP_bind_virq = k('EVTCHNOP_bind_virq');
const EVTCHNOP_close = k('EVTCHNOP_close');
const EVTCHNOP_send = k('EVTCHNOP_send');
const EVTCHNOP_status = k('EVTCHNOP_status');
const EVTCHNOP_alloc_unbound = k('EVTCHNOP_alloc_unbound');
const EVTCHNOP_bind_ipi = k('EVTCHNOP_bind_ipi');
const EVTCHNOP_unmask = k('EVTCHNOP_unmask');
const STAT = { closed: k('EVTCHNSTAT_closed'), unbound: k('EVTCHNSTAT_unbound'), interdomain: k('EVTCHNSTAT_interdomain'), virq: k('EVTCHNSTAT_virq'), ipi: k('EVTCHNSTAT_ipi') };
const EVTCHNOP_bind_vcpu = k('EVTCHNOP_bind_vcpu');
/** The VIRQs each vCPU has its own of; the rest are global (bound on vCPU 0, Xen's virq_is_global). */
const PER_VCPU_VIRQS = new Set(['VIRQ_TIMER', 'VIRQ_DEBUG', 'VIRQ_XENOPROF', 'VIRQ_XENPMU'].map(k));

export function eventChannelOp(x: Xen, d: Domain, cmd: number, arg: number): number {
  const ev = d.events;
  const read32 = (off: number) => d.read32(arg + off);
  const port = (p: number | null) => (p !== null && p < NR_PORTS ? p : -1);
  switch (cmd) {
    case EVTCHNOP_bind_virq: {
      const virq = read32(field('evtchn_bind_virq', 'virq'));
      const vcpu = read32(field('evtchn_bind_virq', 'vcpu'));
      if (virq === null || vcpu === null) return EFAULT;
      if (virq >= NR_VIRQS) return EINVAL;
      if (!PER_VCPU_VIRQS.has(virq) && vcpu !== 0) return EINVAL;
      const v = vcpu < d.vcpus.length ? d.vcpus[vcpu] : null;
      if (!v) return ENOENT;
      if (v.virqPort[virq] >= 0) return EEXIST;
      const p = ev.allocate();
      if (p < 0) return ENOSPC;
      if (!d.write32(arg + field('evtchn_bind_virq', 'port'), p)) return EFAULT;
      ev.bind(p, { kind: 'virq', virq }, vcpu);
      v.virqPort[virq] = p;
      return 0;
    }
    case EVTCHNOP_bind_ipi: {
      const vcpu = read32(field('evtchn_bind_ipi', 'vcpu'));
      if (vcpu === null) return EFAULT;
      if (vcpu >= d.vcpus.length) return ENOENT;
      const p = ev.allocate();
      if (p < 0) return ENOSPC;
      if (!d.write32(arg + field('evtchn_bind_ipi', 'port'), p)) return EFAULT;
      ev.bind(p, { kind: 'ipi' }, vcpu);
      return 0;
    }
    case EVTCHNOP_bind_vcpu: {
      const p = port(read32(field('evtchn_bind_vcpu', 'port')));
      const vcpu = read32(field('evtchn_bind_vcpu', 'vcpu'));
      if (vcpu === null) return EFAULT;
      if (vcpu >= d.vcpus.length) return ENOENT;
      if (p < 0) return EINVAL;
      // Channels from outside the domain and global VIRQs may move; per-vCPU VIRQs and IPIs are bound where they are.
      const b = ev.port(p);
      const movable = b.kind === 'unbound' || b.kind === 'interdomain' || (b.kind === 'virq' && !PER_VCPU_VIRQS.has(b.virq));
      if (!movable) return EINVAL;
      ev.setNotifyVcpu(p, vcpu);
      return 0;
    }
    case EVTCHNOP_alloc_unbound: {
      const raw = d.read(arg, 4);
      if (!raw) return EFAULT;
      const dom = raw[0] | (raw[1] << 8), remote = raw[2] | (raw[3] << 8);
      if (dom !== DOMID_SELF && dom !== d.domain) return EPERM;
      const p = ev.allocate();
      if (p < 0) return ENOSPC;
      if (!d.write32(arg + field('evtchn_alloc_unbound', 'port'), p)) return EFAULT;
      ev.bind(p, { kind: 'unbound', remoteDom: remote === DOMID_SELF ? d.domain : remote });
      return 0;
    }
    case EVTCHNOP_bind_interdomain: {
      const raw = d.read(arg, 8);
      if (!raw) return EFAULT;
      const remoteDom = (raw[0] | (raw[1] << 8)) === DOMID_SELF ? d.domain : raw[0] | (raw[1] << 8);
      const remotePort = port(read32(field('evtchn_bind_interdomain', 'remote_port')));
      const other = x.domains.get(remoteDom);
      if (!other) return ESRCH;
      const target = remotePort >= 0 ? other.events.port(remotePort) : null;
      if (!target || target.kind !== 'unbound' || target.remoteDom !== d.domain) return EINVAL;
      const p = ev.allocate();
      if (p < 0) return ENOSPC;
      if (!d.write32(arg + field('evtchn_bind_interdomain', 'local_port'), p)) return EFAULT;
      ev.bind(p, { kind: 'interdomain', remoteDom, remotePort });
      other.events.bind(remotePort, { kind: 'interdomain', remoteDom: d.domain, remotePort: p });
      return 0;
    }
    case EVTCHNOP_send: {
      const p = port(read32(0));
      const b = p >= 0 ? ev.port(p) : null;
      if (!b || b.kind === 'free') return EINVAL;
      if (b.kind === 'interdomain') {
        if (b.remoteDom === BACKEND_DOMAIN) x.notifyDom0(d, p);
        else x.domains.get(b.remoteDom)?.events.raise(b.remotePort);
      }
      else if (b.kind === 'ipi') ev.raise(p);
      // Sending on an unbound or VIRQ port is allowed and goes nowhere.
      return 0;
    }
    case EVTCHNOP_close: {
      const p = port(read32(0));
      const b = p >= 0 ? ev.port(p) : null;
      if (!b || b.kind === 'free') return EINVAL;
      if (b.kind === 'virq') d.vcpus[PER_VCPU_VIRQS.has(b.virq) ? ev.vcpuOf(p) : 0].virqPort[b.virq] = -1;
      if (b.kind === 'interdomain') {
        const other = x.domains.get(b.remoteDom);
        if (other) other.events.bind(b.remotePort, { kind: 'unbound', remoteDom: d.domain });
      }
      ev.bind(p, { kind: 'free' });
      return 0;
    }
    case EVTCHNOP_unmask: {
      const p = port(read32(0));
      if (p < 0) return EINVAL;
      ev.unmask(p);
      return 0;
    }
    case EVTCHNOP_status: {
      const raw = d.read(arg, 8);
      if (!raw) return EFAULT;
      const p = port(read32(field('evtchn_status', 'port')));
      if (p < 0) return EINVAL;
      const b = ev.port(p);
      const out = new Uint8Array(16);
      const dv = new DataView(out.buffer);
      dv.setUint32(0, b.kind === 'free' ? STAT.closed : STAT[b.kind], true);
      dv.setUint32(4, ev.vcpuOf(p), true); // vcpu
      if (b.kind === 'unbound') dv.setUint16(8, b.remoteDom, true);
      if (b.kind === 'interdomain') {
        dv.setUint16(8, b.remoteDom, true);
        dv.setUint32(12, b.remotePort, true);
      }
      if (b.kind === 'virq') dv.setUint32(8, b.virq, true);
      return d.write(arg + field('evtchn_status', 'status'), out) ? 0 : EFAULT;
    }
    default:
      return ENOSYS;
  }
}
