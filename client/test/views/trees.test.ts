// The tree views' models (Domains, Event Channels, Grant Tables) on recorded adapter
// responses: the nodes of a stop, and what changed since the stop before.

import { describe, expect, it } from 'vitest';
import { domainOfNode, domainsTree } from '../../src/views/models/domains.js';
import { eventChannelsNode } from '../../src/views/models/eventChannels.js';
import { grantTablesNode } from '../../src/views/models/grantTables.js';
import { StopHistory } from '../../src/views/models/history.js';
import { markChanges, walk, type TreeNode } from '../../src/views/models/tree.js';
import { fixture } from '../fixtures.js';

const byId = (nodes: TreeNode[], id: string) => [...walk(nodes)].find((n) => n.id === id);
const changedIds = (nodes: TreeNode[]) => [...walk(nodes)].filter((n) => n.changed).map((n) => n.id);
/** Label and description, the text a tree row shows. */
const row = (n: TreeNode | undefined) => n && [n.label, n.description];

describe('Domains tree', () => {
  const [first, second] = fixture('blkfront');

  it('a domain with its vCPUs and counters, its state as an icon and a menu context', () => {
    const [dom] = domainsTree(first.domains);
    expect(row(dom)).toEqual(['dom1 (blkfront)', 'running · 2,048 pages · 1 vCPU']);
    expect(dom).toMatchObject({ id: 'dom1', icon: 'vm-running', contextValue: 'xenDomain.running', expanded: true });
    expect(dom.children!.map((c) => c.id)).toEqual(['dom1/vcpu0', 'dom1/counters']);
    expect(row(dom.children![0])).toEqual(['vCPU 0', 'running · eip 0xc000035d · 3,180 instructions']);
    const counters = byId([dom], 'dom1/counters')!.children!;
    expect(counters.map(row)).toEqual([
      ['hypercalls', '10'], ['transitions', '10'], ['page-table updates', '2'], ['batching ratio', '0.20 updates per transition'],
      ['events sent', '1'], ['events delivered', '0'], ['traps', '0'], ['I/O', undefined],
    ]);
    expect(byId([dom], 'dom1/counters/hypercalls')!.children!.map(row)).toEqual([
      ['event_channel_op', '6'], ['update_va_mapping', '2'], ['console_io', '1'], ['grant_table_op', '1'],
    ]);
    // No trap taken: a leaf, not an empty folder.
    expect(byId([dom], 'dom1/counters/traps')!.children).toBeUndefined();
  });

  it('the next stop: counters show their growth, and only what grew is marked changed', () => {
    const before = domainsTree(first.domains);
    const now = markChanges(domainsTree(second.domains, first.domains), before);
    expect(row(byId(now, 'dom1/vcpu0'))).toEqual(['vCPU 0', 'running · eip 0xc00003b4 · 3,192 instructions (+12)']);
    expect(row(byId(now, 'dom1/counters/hypercalls/event_channel_op'))).toEqual(['event_channel_op', '7 (+1)']);
    expect(changedIds(now)).toEqual([
      'dom1/vcpu0', 'dom1/counters/hypercalls', 'dom1/counters/hypercalls/event_channel_op', 'dom1/counters/transitions',
      'dom1/counters/batching', 'dom1/counters/eventsSent', 'dom1/counters/io/ringRequests', 'dom1/counters/io/ringResponses',
      'dom1/counters/io/notificationsSent', 'dom1/counters/io/bytesMoved',
    ]);
    // Parents count what changed below them (a collapsed row says so).
    expect(byId(now, 'dom1')!.changedBelow).toBe(10);
    expect(byId(now, 'dom1')!.changed).toBe(false);
  });

  it('two domains: one blocked polling, one running; node ids name their domain', () => {
    const [ping, pong] = domainsTree(fixture('pingpong')[0].domains);
    expect([ping.description, ping.icon, ping.contextValue]).toEqual(['blocked · 2,048 pages · 1 vCPU', 'vm-outline', 'xenDomain.blocked']);
    expect(row(ping.children![0])![1]).toMatch(/^polling · eip 0x/);
    expect([pong.description, pong.contextValue]).toEqual(['running · 2,048 pages · 1 vCPU', 'xenDomain.running']);
    expect([ping, ping.children![0], pong.children![1]].map(domainOfNode)).toEqual([1, 1, 2]);
    expect(domainOfNode({ id: 'counters' })).toBeNull();
  });
});

describe('Event Channels tree', () => {
  const [first, second] = fixture('pingpong');
  const tree = (stop: typeof first) => stop.eventChannels.map((body, i) => eventChannelsNode(`dom${i + 1} (${stop.domains.domains[i].name})`, body));

  it("pingpong: each domain's xenstore and console channels to dom0 and the channel between them", () => {
    const [ping, pong] = tree(first);
    expect(row(ping)).toEqual(['dom1 (ping)', '3 ports']);
    expect(ping.children!.map(row)).toEqual([
      ['port 1', 'dom0 port 1 (xenstore) · vCPU 0'],
      ['port 2', 'dom0 port 2 (console) · vCPU 0'],
      ['port 3', 'dom2 port 3 · vCPU 0'],
      ['vCPU 0', 'no upcall pending · masked · pending_sel 0x00000000'],
    ]);
    expect(row(pong.children![2])).toEqual(['port 3', 'dom1 port 3 · vCPU 0']);
    expect(ping.children![2]).toMatchObject({ icon: 'bell', contextValue: 'xenPort.interdomain' });
  });

  it('the next stop: the token raised an upcall for ping, and only that is marked', () => {
    const now = markChanges(tree(second), tree(first));
    expect(changedIds(now)).toEqual(['dom1/upcall0']);
    expect(row(byId(now, 'dom1/upcall0'))).toEqual(['vCPU 0', 'upcall pending · masked · pending_sel 0x00000001']);
    expect(byId(now, 'dom1')!.changedBelow).toBe(1);
  });

  it('blkfront: the ring\'s channel is named after the device dom0 serves on it', () => {
    const node = eventChannelsNode('dom1 (blkfront)', fixture('blkfront')[0].eventChannels);
    expect(row(node.children![2])).toEqual(['port 3', 'dom0 port 3 (blkif vbd 51712) · vCPU 0']);
  });
});

describe('Grant Tables tree', () => {
  it("blkfront: the ring page's grant pinned for writing by dom0's mapping, the data page's grant not mapped", () => {
    const [first] = fixture('blkfront');
    const node = grantTablesNode('dom1 (blkfront)', first.grantTables);
    expect(row(node)).toEqual(['dom1 (blkfront)', '1 frame · 2 active entries of 512']);
    const [grants, mappings] = node.children!;
    expect(grants.children!.map(row)).toEqual([
      ['ref 8', '→ dom0 · frame 0xe · pins 0r/1w · mapped by dom0'],
      ['ref 9', '→ dom0 · frame 0xf · pins 0r/0w'],
    ]);
    expect(grants.children!.map((g) => [g.icon, g.tooltip])).toEqual([
      ['lock', 'GTF_permit_access | GTF_writing (flags 0x0011)'],
      ['unlock', 'GTF_permit_access (flags 0x0001)'],
    ]);
    expect(row(mappings)).toEqual(['Mapped from others', '0 mappings']);
  });

  it('pingpong: no table set up', () => {
    const node = grantTablesNode('dom1 (ping)', fixture('pingpong')[0].grantTables[0]);
    expect(row(node)).toEqual(['dom1 (ping)', '0 frames · 0 active entries of 0']);
    expect(node.tooltip).toBe('no table set up (GNTTABOP_setup_table)');
  });
});

describe('what changed since the previous stop', () => {
  it('nothing is marked without a previous stop; a new node is', () => {
    const nodes: TreeNode[] = [{ id: 'a', label: 'a', description: '1' }];
    expect(markChanges(nodes, undefined)[0].changed).toBeUndefined();
    const next = markChanges([{ id: 'a', label: 'a', description: '1', children: [{ id: 'a/b', label: 'b' }] }], nodes);
    expect(next[0]).toMatchObject({ changed: false, changedBelow: 1 });
    expect(next[0].children![0].changed).toBe(true);
  });

  it('StopHistory compares with the previous stop, not with a refresh of the same stop', () => {
    const h = new StopHistory<string>();
    expect(h.record(1, 'first')).toBeUndefined();
    expect(h.record(2, 'second')).toBe('first');
    expect(h.record(2, 'second, refreshed')).toBe('first');
    expect(h.record(3, 'third')).toBe('second, refreshed');
    h.reset();
    expect(h.record(4, 'new session')).toBeUndefined();
  });
});
