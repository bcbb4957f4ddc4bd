// The block backend in dom0 (what Linux's blkback does): a virtual disk of a domain,
// announced in xenstore the way xl does; the xenbus handshake (the frontend writes its
// ring's grant reference and event channel and switches to Initialised, the backend
// connects); requests taken from the shared ring and served against a disk image, every
// data segment reached through a grant the frontend made to dom0. A malformed request gets
// BLKIF_RSP_ERROR and changes nothing; a frontend that overruns the ring is disconnected.

import { k, sizeOf } from '../abi.js';
import type { Domain } from '../domain.js';
import { BACKEND_DOMAIN } from '../console.js';
import { grantedFrame, hostMapGrant, hostUnmapGrant, type GrantMapping } from '../grant-table.js';
import { BackRing } from '../ring.js';
import type { Xen } from '../xen.js';
import { XenbusBackend, XENBUS_STATE as STATE } from './xenbus.js';

export const SECTOR = 512;
const OP = { read: k('BLKIF_OP_READ'), write: k('BLKIF_OP_WRITE'), barrier: k('BLKIF_OP_WRITE_BARRIER'), flush: k('BLKIF_OP_FLUSH_DISKCACHE') } as const;
const RSP = { okay: k('BLKIF_RSP_OKAY'), error: k('BLKIF_RSP_ERROR'), unsupported: k('BLKIF_RSP_EOPNOTSUPP') } as const;
const MAX_SEGMENTS = k('BLKIF_MAX_SEGMENTS_PER_REQUEST');
const VDISK_READONLY = k('VDISK_READONLY');
const RESPONSE = sizeOf('blkif_response');

/** What a disk is backed by: its bytes (a whole number of sectors). */
export interface DiskImage {
  bytes: Uint8Array;
  writable: boolean;
  /** Called after a write, flush or barrier changed or committed data (the host saves the image). */
  written?: () => void;
}

export interface BlkCounters {
  requests: number;
  errors: number;
  bytesRead: number;
  bytesWritten: number;
}

/** xl's device number for a virtual disk name: xvdX is 202 << 8 | index << 4, hdX 3 << 8 | ..., sdX 8 << 8 | .... */
export function vdevNumber(vdev: string): number {
  const m = /^(xvd|hd|sd)([a-z]+)$/.exec(vdev);
  if (!m) return -1;
  let index = 0;
  for (const c of m[2]) index = index * 26 + (c.charCodeAt(0) - 96);
  index--;
  const major = m[1] === 'xvd' ? 202 : m[1] === 'hd' ? 3 : 8;
  return (major << 8) | (index << 4);
}

export class BlkBack extends XenbusBackend {
  readonly counters: BlkCounters = { requests: 0, errors: 0, bytesRead: 0, bytesWritten: 0 };
  private ring: BackRing | null = null;
  private ringMapping: GrantMapping | null = null;

  /** Announces the disk in xenstore (as the toolstack does) and waits for the frontend. */
  constructor(x: Xen, d: Domain, readonly vdev: string, readonly disk: DiskImage) {
    super(x, d, 'vbd', vdevNumber(vdev));
    if (this.devid < 0) throw new Error(`'${vdev}' is not a virtual disk name`);
    if (disk.bytes.length % SECTOR !== 0) throw new Error(`the image of ${vdev} is not a whole number of sectors`);
    this.announce(
      { 'virtual-device': String(this.devid), 'device-type': 'disk' },
      {
        dev: vdev, mode: disk.writable ? 'w' : 'r', sectors: String(disk.bytes.length / SECTOR),
        'sector-size': String(SECTOR), info: String(disk.writable ? 0 : VDISK_READONLY),
      },
    );
  }

  protected get connected(): boolean {
    return this.ring !== null;
  }

  /** The frontend published its ring and port: map the one, bind the other. */
  protected connect(): void {
    const ref = Number(this.read(`${this.frontendPath}/ring-ref`));
    const port = Number(this.read(`${this.frontendPath}/event-channel`));
    if (!Number.isInteger(ref) || !Number.isInteger(port)) return this.fail('ring-ref or event-channel missing or not a number');
    const m = hostMapGrant(this.x, this.d, ref, false);
    if (typeof m === 'number') return this.fail(`mapping ring-ref ${ref} failed (${m})`);
    if (this.x.bindDom0(this.d, port, () => this.kick()) !== 0) {
      hostUnmapGrant(this.x, m);
      return this.fail(`binding event-channel ${port} failed`);
    }
    this.ringMapping = m;
    this.ring = new BackRing(this.x.mem, m.frame * 4096, 'blkif', this.d.counters.io);
    this.port = port;
    this.setState(STATE.connected);
  }

  disconnect(): void {
    if (this.ringMapping) hostUnmapGrant(this.x, this.ringMapping);
    this.ringMapping = null;
    this.ring = null;
    this.releasePort();
  }

  /** The frontend notified: serve every request, answer, and notify it if it asked. */
  kick(): void {
    const ring = this.ring;
    if (!ring) return;
    do {
      if (ring.overflowed()) return this.fail('the frontend overran the request ring');
      while (ring.unconsumedRequests() > 0) ring.putResponse(this.serve(ring.takeRequest()));
      if (ring.pushResponses()) this.d.events.raise(this.port);
    } while (ring.finalCheckForRequests());
  }

  /** One request: checked whole before anything is read or written. */
  private serve(req: Uint8Array): Uint8Array {
    const v = new DataView(req.buffer);
    const op = req[0], nseg = req[1];
    this.counters.requests++;
    const rsp = new Uint8Array(RESPONSE);
    rsp.set(req.subarray(4, 12), 0); // the id, echoed
    rsp[8] = op;
    const answer = (status: number) => {
      if (status !== RSP.okay) this.counters.errors++;
      new DataView(rsp.buffer).setInt16(10, status, true);
      return rsp;
    };
    if (op === OP.flush && nseg === 0) {
      this.disk.written?.();
      return answer(RSP.okay);
    }
    if (op !== OP.read && op !== OP.write && op !== OP.barrier) return answer(RSP.unsupported);
    const writing = op !== OP.read;
    if (nseg < 1 || nseg > MAX_SEGMENTS || (writing && !this.disk.writable)) return answer(RSP.error);
    const sectorHi = v.getUint32(16, true);
    let sector = v.getUint32(12, true);
    if (sectorHi !== 0) return answer(RSP.error);
    const segments: { frame: number; first: number; last: number }[] = [];
    let total = 0;
    for (let i = 0; i < nseg; i++) {
      const at = 20 + 8 * i;
      const gref = v.getUint32(at, true), first = req[at + 4], last = req[at + 5];
      if (first > last || last >= 4096 / SECTOR) return answer(RSP.error);
      // Reading the disk writes into the guest's page: that needs a writable grant.
      const frame = grantedFrame(this.x.mm, this.d, gref, BACKEND_DOMAIN, !writing);
      if (frame < 0) return answer(RSP.error);
      // ... and a page that may be written at all: never a page table or descriptor page.
      if (!writing && !this.x.mm.mayWriteData(frame)) return answer(RSP.error);
      segments.push({ frame, first, last });
      total += last - first + 1;
    }
    if (sector + total > this.disk.bytes.length / SECTOR) return answer(RSP.error);
    const mem = this.x.mem;
    for (const s of segments) {
      const n = (s.last - s.first + 1) * SECTOR;
      const page = s.frame * 4096 + s.first * SECTOR;
      const disk = sector * SECTOR;
      if (writing) {
        this.disk.bytes.set(mem.bytes.subarray(page, page + n), disk);
        this.counters.bytesWritten += n;
        this.d.counters.io.bytesMoved += n;
      } else {
        mem.load(page, this.disk.bytes.subarray(disk, disk + n));
        this.counters.bytesRead += n;
        this.d.counters.io.bytesMoved += n;
      }
      sector += s.last - s.first + 1;
    }
    if (writing) this.disk.written?.();
    return answer(RSP.okay);
  }
}
