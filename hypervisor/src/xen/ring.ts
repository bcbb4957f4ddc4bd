// The back end of a shared I/O ring with io/ring.h's exact layout and arithmetic: free-
// running 32-bit indices (never masked in the shared page), entries after a 64-byte header,
// as many as fit rounded down to a power of two, and event-index notification avoidance
// (a side is notified only when the producer passes the index the other side asked for).
// Frontends built on Xen's macros work against it unchanged.

import { RING_TYPES } from '../../../isa/src/index.js';
import type { PhysicalMemory } from '../memory.js';
import { field } from './abi.js';
import type { IoCounters } from './domain.js';

const f = (name: string) => field('sring', name);
const REQ_PROD = f('req_prod'), REQ_EVENT = f('req_event'), RSP_PROD = f('rsp_prod'), RSP_EVENT = f('rsp_event'), RING = f('ring');

/** RING_IDX arithmetic: a - b modulo 2^32. */
const sub = (a: number, b: number) => (a - b) >>> 0;

export class BackRing {
  /** Slots (isa/'s geometry for the ring type), and the bytes of one. */
  readonly size: number;
  readonly entrySize: number;
  /** Private indices: the next request to consume, the next response slot. */
  reqCons: number;
  rspProdPvt: number;

  /** A ring of `type` (`blkif`, `netif_tx`, ...) at `base`; `io`: the frontend domain's counters, which its traffic and notifications go to. */
  constructor(private readonly mem: PhysicalMemory, private readonly base: number, type: string, private readonly io: IoCounters) {
    const t = RING_TYPES.find((r) => r.name === type);
    if (!t) throw new Error(`no ring type ${type} in isa/`);
    this.size = t.entries;
    this.entrySize = t.slotSize;
    // BACK_RING_ATTACH: start from where the shared indices are.
    this.reqCons = this.rspProdPvt = mem.read32(base + RSP_PROD);
  }

  private get reqProd(): number {
    return this.mem.read32(this.base + REQ_PROD);
  }

  /** RING_HAS_UNCONSUMED_REQUESTS: bounded by the free response slots, so a lying producer cannot make us overrun. */
  unconsumedRequests(): number {
    const req = sub(this.reqProd, this.reqCons);
    const rsp = this.size - sub(this.reqCons, this.rspProdPvt);
    return Math.min(req, rsp);
  }

  /** Whether the frontend published more than a ring's worth (RING_REQUEST_PROD_OVERFLOW). */
  overflowed(): boolean {
    return sub(this.reqProd, this.rspProdPvt) > this.size;
  }

  /** RING_COPY_REQUEST: the next request copied out (the frontend may change the shared slot at any time). */
  takeRequest(): Uint8Array {
    const at = this.base + RING + (this.reqCons & (this.size - 1)) * this.entrySize;
    this.reqCons = (this.reqCons + 1) >>> 0;
    this.io.ringRequests++;
    return this.mem.bytes.slice(at, at + this.entrySize);
  }

  /** Writes a response into the next slot (published by pushResponses). */
  putResponse(rsp: Uint8Array): void {
    const at = this.base + RING + (this.rspProdPvt & (this.size - 1)) * this.entrySize;
    this.mem.load(at, rsp);
    this.rspProdPvt = (this.rspProdPvt + 1) >>> 0;
    this.io.ringResponses++;
  }

  /** RING_PUSH_RESPONSES_AND_CHECK_NOTIFY: publish, and whether the frontend asked to be told. */
  pushResponses(): boolean {
    const old = this.mem.read32(this.base + RSP_PROD);
    const now = this.rspProdPvt;
    this.mem.write32(this.base + RSP_PROD, now);
    const notify = sub(now, this.mem.read32(this.base + RSP_EVENT)) < sub(now, old);
    if (notify) this.io.notificationsSent++;
    else if (now !== old) this.io.notificationsAvoided++;
    return notify;
  }

  /** RING_FINAL_CHECK_FOR_REQUESTS: requests left, else ask for a notification on the next one and look again. */
  finalCheckForRequests(): boolean {
    if (this.unconsumedRequests() > 0) return true;
    this.mem.write32(this.base + REQ_EVENT, (this.reqCons + 1) >>> 0);
    return this.unconsumedRequests() > 0;
  }
}
