// The Domains tree: each domain with its vCPUs and counters, the counters showing how much
// they grew since the previous stop.

import type { DomainInfo, DomainsBody, DomainStateName, VcpuInfo } from '../../../../protocol/src/index.js';
import { count, delta, hex, plural } from './format.js';
import type { TreeNode } from './tree.js';

const STATE_ICONS: Record<DomainStateName, string> = {
  running: 'vm-running', blocked: 'vm-outline', paused: 'debug-pause', shutdown: 'vm', crashed: 'error',
};

/** The context value menus key on: `xenDomain.<state>` (pause for running/blocked, unpause for paused). */
export const domainContext = (d: DomainInfo): string => `xenDomain.${d.state}`;

/** The domain id a Domains node stands for (`dom3`, `dom3/...`), or null. */
export function domainOfNode(node: Pick<TreeNode, 'id'>): number | null {
  const m = /^dom(\d+)(?:\/|$)/.exec(node.id);
  return m ? Number(m[1]) : null;
}

function stateText(d: DomainInfo): string {
  if (d.state === 'shutdown') return `shut down (${d.shutdownReason ?? '?'})`;
  if (d.state === 'crashed') return `crashed${d.crashReason ? `: ${d.crashReason}` : ''}`;
  return d.state;
}

function vcpuNode(d: DomainInfo, v: VcpuInfo, before: VcpuInfo | undefined): TreeNode {
  const state = !v.up ? 'down' : v.polling ? 'polling' : v.runstate;
  return {
    id: `dom${d.id}/vcpu${v.id}`, label: `vCPU ${v.id}`,
    description: `${state} · eip ${hex(v.eip)} · ${plural(v.instructions, 'instruction')}${delta(v.instructions, before?.instructions)}`,
    tooltip: `runstate ${v.runstate}${v.blocked ? ', blocked' : ''}\nCR3 ${hex(v.cr3)}\n${count(v.cycles)} cycles run`,
    icon: v.up && !v.blocked ? 'circuit-board' : 'debug-stackframe-dot',
  };
}

/** A leaf counter: its value, and how much it grew since the previous stop. */
function counter(id: string, label: string, now: number, before: number | undefined, tooltip?: string): TreeNode {
  return { id, label, description: `${count(now)}${delta(now, before)}`, ...(tooltip ? { tooltip } : {}) };
}

function countersNode(d: DomainInfo, b: DomainInfo | undefined): TreeNode {
  const c = d.counters, p = b?.counters;
  const id = `dom${d.id}/counters`;
  const hypercalls = Object.entries(c.byHypercall).sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]))
    .map(([name, n]) => counter(`${id}/hypercalls/${name}`, name, n, p ? p.byHypercall[name] ?? 0 : undefined));
  const io = c.io, pio = p?.io;
  return {
    id, label: 'Counters', icon: 'pulse',
    children: [
      { ...counter(`${id}/hypercalls`, 'hypercalls', c.hypercalls, p?.hypercalls), children: hypercalls },
      counter(`${id}/transitions`, 'transitions', c.transitions, p?.transitions, 'guest → hypervisor entries: hypercalls and the traps Xen took'),
      counter(`${id}/ptUpdates`, 'page-table updates', c.ptUpdates, p?.ptUpdates),
      { id: `${id}/batching`, label: 'batching ratio', description: `${c.batchingRatio.toFixed(2)} updates per transition`, tooltip: 'page-table updates per guest → hypervisor transition: higher is better batched' },
      counter(`${id}/eventsSent`, 'events sent', c.eventsSent, p?.eventsSent),
      counter(`${id}/eventsDelivered`, 'events delivered', c.eventsDelivered, p?.eventsDelivered),
      {
        ...counter(`${id}/traps`, 'traps', c.traps.reduce((s, t) => s + t.count, 0), p?.traps.reduce((s, t) => s + t.count, 0)),
        ...(c.traps.length ? { children: c.traps.map((t) => counter(`${id}/traps/${t.vector}`, `${t.name} (vector ${t.vector})`, t.count, p ? p.traps.find((x) => x.vector === t.vector)?.count ?? 0 : undefined)) } : {}),
      },
      {
        id: `${id}/io`, label: 'I/O',
        children: [
          counter(`${id}/io/ringRequests`, 'ring requests', io.ringRequests, pio?.ringRequests),
          counter(`${id}/io/ringResponses`, 'ring responses', io.ringResponses, pio?.ringResponses),
          counter(`${id}/io/notificationsSent`, 'notifications sent', io.notificationsSent, pio?.notificationsSent),
          counter(`${id}/io/notificationsAvoided`, 'notifications avoided', io.notificationsAvoided, pio?.notificationsAvoided),
          counter(`${id}/io/grantOps`, 'grant operations', io.grantOps, pio?.grantOps),
          counter(`${id}/io/bytesMoved`, 'bytes moved', io.bytesMoved, pio?.bytesMoved),
        ],
      },
    ],
  };
}

function domainNode(d: DomainInfo, b: DomainInfo | undefined): TreeNode {
  const crash = d.state === 'crashed' && d.crashEip !== undefined ? `\ncrashed on vCPU ${d.crashVcpu} at ${hex(d.crashEip)}` : '';
  return {
    id: `dom${d.id}`, label: `dom${d.id} (${d.name})`,
    description: `${stateText(d)} · ${plural(d.pages, 'page')} · ${plural(d.vcpus.length, 'vCPU')}`,
    tooltip: `${d.pages} of at most ${d.maxPages} pages (${(d.pages * 4) / 1024} MiB)\nweight ${d.weight}\n${count(d.cycles)} cycles run${crash}`,
    icon: STATE_ICONS[d.state], contextValue: domainContext(d), expanded: true,
    children: [...d.vcpus.map((v) => vcpuNode(d, v, b?.vcpus.find((x) => x.id === v.id))), countersNode(d, b)],
  };
}

/** The Domains tree of a stop; `before` (the previous stop's body) gives the counters' growth. */
export function domainsTree(now: DomainsBody, before?: DomainsBody): TreeNode[] {
  return now.domains.map((d) => domainNode(d, before?.domains.find((x) => x.id === d.id)));
}
