// The Event Channels tree: per domain, its bound ports (what each is bound to, which vCPU
// it notifies, pending and masked), then each vCPU's upcall state.

import type { EventChannelInfo, EventChannelsBody, VcpuUpcallInfo } from '../../../../protocol/src/index.js';
import { hex, plural } from './format.js';
import type { TreeNode } from './tree.js';

/** Where a port leads. */
export function bindingText(p: EventChannelInfo): string {
  switch (p.kind) {
    case 'interdomain': return `dom${p.remoteDomain} port ${p.remotePort}${p.dom0End ? ` (${p.dom0End})` : ''}`;
    case 'unbound': return `unbound, for dom${p.remoteDomain}`;
    case 'virq': return `${p.virqName} (virq ${p.virq})`;
    case 'ipi': return 'IPI';
  }
}

function portNode(domain: number, p: EventChannelInfo): TreeNode {
  const flags = [p.pending ? 'pending' : '', p.masked ? 'masked' : ''].filter(Boolean);
  return {
    id: `dom${domain}/port${p.port}`, label: `port ${p.port}`,
    description: [bindingText(p), `vCPU ${p.vcpu}`, ...flags].join(' · '),
    tooltip: `${p.kind} channel notifying vCPU ${p.vcpu}\npending ${p.pending ? 1 : 0}, masked ${p.masked ? 1 : 0}`,
    icon: p.pending ? 'bell-dot' : p.masked ? 'bell-slash' : 'bell',
    contextValue: `xenPort.${p.kind}`,
  };
}

function upcallNode(domain: number, v: VcpuUpcallInfo): TreeNode {
  const flags = [v.upcallPending ? 'upcall pending' : 'no upcall pending', v.upcallMask ? 'masked' : 'unmasked'];
  return {
    id: `dom${domain}/upcall${v.vcpu}`, label: `vCPU ${v.vcpu}`,
    description: `${flags.join(' · ')} · pending_sel ${hex(v.pendingSel)}`,
    tooltip: 'evtchn_upcall_pending, evtchn_upcall_mask (the virtual interrupt flag is clear when masked) and evtchn_pending_sel in vcpu_info',
    icon: 'circuit-board',
  };
}

/** One domain's channels, under a node named after it (`name`: `dom1 (ping)`). */
export function eventChannelsNode(name: string, body: EventChannelsBody): TreeNode {
  const pending = body.ports.filter((p) => p.pending).length;
  return {
    id: `dom${body.domain}`, label: name, icon: 'vm', expanded: true,
    description: `${plural(body.ports.length, 'port')}${pending ? ` · ${pending} pending` : ''}`,
    children: [...body.ports.map((p) => portNode(body.domain, p)), ...body.vcpus.map((v) => upcallNode(body.domain, v))],
  };
}
