// The I/O Rings panel's model: each request/response ring as a circle of its slots (a
// slot holds a request until the backend answers it, then the response until the frontend
// reuses it), the producer, consumer and event indices as pointers at the slots they name,
// and the decoded requests and responses; each byte ring (console, xenstore) as its unread
// bytes and messages. Slots and entries that changed since the previous stop are marked.

import type {
  ByteRingInfo, ByteStreamInfo, RingEntry, RingEntryValue, RingsBody, SharedRingInfo,
} from '../../../../protocol/src/index.js';
import { isByteRing } from '../../../../protocol/src/index.js';
import { count, plural, shortHex } from './format.js';

/** The drawing's square viewBox, and the ring's radii in it. */
export const RING_GEOMETRY = { size: 300, outer: 112, inner: 74 } as const;

export type SlotState = 'free' | 'pending' | 'taken' | 'answered';

export interface SlotDrawing {
  slot: number;
  state: SlotState;
  /** An annular sector, as an SVG path. */
  path: string;
  /** The ring index it holds (requests and responses), else null. */
  index: number | null;
  title: string;
  changed: boolean;
}

export interface PointerDrawing {
  name: string;
  value: number;
  /** Requests' indices point from outside the ring, responses' from inside. */
  side: 'request' | 'response';
  /** A line from the ring's edge outwards (or inwards), and where its label goes. */
  x1: number; y1: number; x2: number; y2: number;
  labelX: number; labelY: number;
  anchor: 'start' | 'middle' | 'end';
  changed: boolean;
}

export interface EntryRow {
  index: number;
  slot: number;
  state: RingEntry['state'];
  text: string;
  changed: boolean;
}

export interface SharedRingDrawing {
  name: string;
  kind: SharedRingInfo['kind'];
  subtitle: string;
  slots: SlotDrawing[];
  pointers: PointerDrawing[];
  requests: EntryRow[];
  responses: EntryRow[];
  /** Index rows for a table: shared (req_prod, ...) and the backend's private ones. */
  indices: { name: string; value: number; changed: boolean }[];
}

export interface ByteStreamDrawing {
  name: ByteStreamInfo['name'];
  cons: number;
  prod: number;
  size: number;
  /** Unread bytes as a fraction of the ring, and where they start (0..1 of the ring). */
  fill: number;
  start: number;
  unread: string;
  messages: string[];
  changed: boolean;
}

export interface ByteRingDrawing {
  name: string;
  kind: ByteRingInfo['kind'];
  subtitle: string;
  streams: ByteStreamDrawing[];
}

export interface RingsModel {
  shared: SharedRingDrawing[];
  bytes: ByteRingDrawing[];
  devices: { name: string; text: string; connected: boolean }[];
}

const r2 = (n: number) => Math.round(n * 100) / 100;

/** The point at `angle` (radians from 12 o'clock, clockwise) and `radius` around the centre. */
function polar(angle: number, radius: number): [number, number] {
  const c = RING_GEOMETRY.size / 2;
  return [r2(c + radius * Math.sin(angle)), r2(c - radius * Math.cos(angle))];
}

const slotAngle = (slot: number, size: number) => (2 * Math.PI * slot) / size;

/** The annular sector of slot `slot` of `size`, a small gap on each side. */
export function slotPath(slot: number, size: number): string {
  const { outer, inner } = RING_GEOMETRY;
  const gap = Math.min(0.02, Math.PI / size / 4);
  const a0 = slotAngle(slot, size) + gap, a1 = slotAngle(slot + 1, size) - gap;
  const large = a1 - a0 > Math.PI ? 1 : 0;
  const [x0, y0] = polar(a0, outer), [x1, y1] = polar(a1, outer), [x2, y2] = polar(a1, inner), [x3, y3] = polar(a0, inner);
  return `M${x0} ${y0}A${outer} ${outer} 0 ${large} 1 ${x1} ${y1}L${x2} ${y2}A${inner} ${inner} 0 ${large} 0 ${x3} ${y3}Z`;
}

/** A decoded request or response on one line (the shapes are told apart by their fields). */
export function entryText(v: RingEntryValue): string {
  const flags = (f: string[]) => (f.length ? ` [${f.join(' ')}]` : '');
  if ('segments' in v) {
    const segs = v.segments.map((s) => `gref ${s.gref} sectors ${s.firstSect}–${s.lastSect}`).join(', ');
    return `${v.operationName} id ${v.id} sector ${v.sector} · ${plural(v.nrSegments, 'segment')}${segs ? `: ${segs}` : ''}`;
  }
  if ('operationName' in v) return `${v.operationName} id ${v.id} → ${v.statusName}`;
  if ('size' in v) return `id ${v.id} gref ${v.gref} offset ${v.offset} size ${v.size}${flags(v.flagNames)}`;
  if ('offset' in v) return `id ${v.id} offset ${v.offset} → ${v.statusName}${flags(v.flagNames)}`;
  if ('statusName' in v) return `id ${v.id} → ${v.statusName}`;
  return `id ${v.id} gref ${v.gref}`;
}

const entryKey = (e: RingEntry) => `${e.index}:${e.state}:${JSON.stringify(e.value)}`;

function pointers(r: SharedRingInfo, before: SharedRingInfo | undefined): PointerDrawing[] {
  const { outer, inner } = RING_GEOMETRY;
  const list: [string, number, 'request' | 'response'][] = [
    ['req_prod', r.reqProd, 'request'], ['req_cons', r.reqCons, 'request'], ['req_event', r.reqEvent, 'request'],
    ['rsp_prod', r.rspProd, 'response'], ['rsp_event', r.rspEvent, 'response'],
  ];
  const old: Record<string, number | undefined> = before ? { req_prod: before.reqProd, req_cons: before.reqCons, req_event: before.reqEvent, rsp_prod: before.rspProd, rsp_event: before.rspEvent } : {};
  // Pointers at the same slot on the same side stack outwards (or inwards) so their labels stay apart.
  const stacked = new Map<string, number>();
  return list.map(([name, value, side]) => {
    const slot = value % r.size;
    const key = `${side}:${slot}`;
    const level = stacked.get(key) ?? 0;
    stacked.set(key, level + 1);
    const a = slotAngle(slot, r.size);
    const [x1, y1] = polar(a, side === 'request' ? outer + 2 : inner - 2);
    const [x2, y2] = polar(a, side === 'request' ? outer + 12 : inner - 10);
    const [labelX, labelY] = polar(a, side === 'request' ? outer + 20 + level * 11 : inner - 18 - level * 11);
    const s = Math.sin(a);
    const anchor = Math.abs(s) < 0.3 ? 'middle' : (s > 0) === (side === 'request') ? 'start' : 'end';
    return { name, value, side, x1, y1, x2, y2, labelX, labelY, anchor, changed: before !== undefined && old[name] !== value };
  });
}

function sharedRing(r: SharedRingInfo, before: SharedRingInfo | undefined): SharedRingDrawing {
  const bySlot = new Map<number, RingEntry>();
  for (const e of [...r.responses, ...r.requests]) bySlot.set(e.slot, e);
  const oldBySlot = new Map<number, RingEntry>();
  for (const e of [...(before?.responses ?? []), ...(before?.requests ?? [])]) oldBySlot.set(e.slot, e);
  const slotChanged = (slot: number) => {
    if (before === undefined) return false;
    const a = bySlot.get(slot), b = oldBySlot.get(slot);
    return (a ? entryKey(a) : '') !== (b ? entryKey(b) : '');
  };
  const slots: SlotDrawing[] = [];
  for (let slot = 0; slot < r.size; slot++) {
    const e = bySlot.get(slot);
    const state: SlotState = e ? (e.state === 'answered' ? 'answered' : e.state) : 'free';
    slots.push({
      slot, state, path: slotPath(slot, r.size), index: e ? e.index : null, changed: slotChanged(slot),
      title: e ? `slot ${slot}: ${e.state === 'answered' ? 'response' : 'request'} #${e.index} (${e.state}) ${entryText(e.value)}` : `slot ${slot}: free`,
    });
  }
  const oldKeys = new Set([...(before?.requests ?? []), ...(before?.responses ?? [])].map(entryKey));
  const rows = (list: RingEntry[]) => list.map((e) => ({ index: e.index, slot: e.slot, state: e.state, text: entryText(e.value), changed: before !== undefined && !oldKeys.has(entryKey(e)) }));
  const idx = (name: string, now: number, then: number | undefined) => ({ name, value: now, changed: before !== undefined && now !== then });
  return {
    name: r.name, kind: r.kind,
    subtitle: `mfn ${shortHex(r.mfn)} · port ${r.port} · ${plural(r.size, 'slot')} of ${r.slotSize} bytes · ${plural(r.requests.length, 'request')} in the ring`,
    slots, pointers: pointers(r, before), requests: rows(r.requests), responses: rows(r.responses),
    indices: [
      idx('req_prod', r.reqProd, before?.reqProd), idx('req_event', r.reqEvent, before?.reqEvent), idx('rsp_prod', r.rspProd, before?.rspProd),
      idx('rsp_event', r.rspEvent, before?.rspEvent), idx('req_cons (backend)', r.reqCons, before?.reqCons), idx('rsp_prod_pvt (backend)', r.rspProdPvt, before?.rspProdPvt),
    ],
  };
}

function byteRing(r: ByteRingInfo, before: ByteRingInfo | undefined): ByteRingDrawing {
  return {
    name: r.name, kind: r.kind, subtitle: `mfn ${shortHex(r.mfn)} · port ${r.port}`,
    streams: r.streams.map((s) => {
      const old = before?.streams.find((x) => x.name === s.name);
      const unread = (s.prod - s.cons) >>> 0;
      return {
        name: s.name, cons: s.cons, prod: s.prod, size: s.size, fill: Math.min(1, unread / s.size), start: (s.cons % s.size) / s.size,
        unread: s.unread, messages: (s.messages ?? []).map((m) => `${m.typeName} req ${m.reqId} tx ${m.txId}: ${JSON.stringify(m.payload)}`),
        changed: old !== undefined && (old.cons !== s.cons || old.prod !== s.prod),
      };
    }),
  };
}

/** The rings of a stop; `before` (the previous stop's body) marks what changed, ring by ring (by name). */
export function ringsModel(now: RingsBody, before?: RingsBody): RingsModel {
  const old = new Map((before?.rings ?? []).map((r) => [r.name, r]));
  const shared: SharedRingDrawing[] = [], bytes: ByteRingDrawing[] = [];
  for (const r of now.rings) {
    const b = old.get(r.name);
    if (isByteRing(r)) bytes.push(byteRing(r, b && isByteRing(b) ? b : undefined));
    else shared.push(sharedRing(r, b && !isByteRing(b) ? b : undefined));
  }
  const devices = now.devices.map((d) => ({ name: d.name, connected: d.connected, text: `${d.kind} ${d.devid} · ${d.connected ? 'connected' : 'not connected'} · ${d.frontendPath} ↔ ${d.backendPath}` }));
  return { shared, bytes, devices };
}

/** `3 bytes unread of 1,024` */
export const streamText = (s: ByteStreamDrawing): string => `${s.name}: cons ${count(s.cons)} prod ${count(s.prod)} · ${plural((s.prod - s.cons) >>> 0, 'byte')} unread of ${count(s.size)}`;
