// Shared-ring geometry of io/ring.h: a one-page ring holds a 64-byte header and then as
// many request/response slots as fit, rounded down to a power of two.

import { c } from './define.js';
import { xenStruct } from './structs.js';
import type { XenConstantGroup } from './types.js';

/** Bytes before the first slot of a shared ring (sring.ring). */
export const SRING_HEADER_SIZE = 64;

/** Slots in a shared ring of `ringBytes` bytes whose slot (request/response union) is `slotBytes`. */
export function ringEntries(slotBytes: number, ringBytes = 4096): number {
  const fit = Math.floor((ringBytes - SRING_HEADER_SIZE) / slotBytes);
  if (fit < 1) return 0;
  return 2 ** Math.floor(Math.log2(fit));
}

export interface RingType {
  /** The DEFINE_RING_TYPES name, e.g. `blkif`. */
  readonly name: string;
  readonly request: string;
  readonly response: string;
  /** Bytes per slot: the larger of the request and response structs. */
  readonly slotSize: number;
  /** Slots in a one-page (4096-byte) ring. */
  readonly entries: number;
}

function ring(name: string, request: string, response: string): RingType {
  const req = xenStruct(request);
  const rsp = xenStruct(response);
  if (!req || !rsp) throw new Error(`ring ${name}: unknown struct ${req ? response : request}`);
  const slotSize = Math.max(req.size, rsp.size);
  return { name, request, response, slotSize, entries: ringEntries(slotSize) };
}

export const RING_TYPES: readonly RingType[] = [
  ring('blkif', 'blkif_request', 'blkif_response'),
  ring('netif_tx', 'netif_tx_request', 'netif_tx_response'),
  ring('netif_rx', 'netif_rx_request', 'netif_rx_response'),
];

export const RING_SIZES: XenConstantGroup = {
  id: 'RING_SIZES',
  doc: 'Slots in a one-page shared ring, as __CONST_RING_SIZE(name, 4096) computes (xenolab names).',
  source: 'xen/include/public/io/ring.h with io/blkif.h and io/netif.h',
  distinct: false,
  constants: [
    c('SRING_HEADER_SIZE', SRING_HEADER_SIZE, 'Bytes of the shared-ring header; slot i is at offset 64 + (i & (size-1)) * slot size.'),
    ...RING_TYPES.map((r) =>
      c(`${r.name.toUpperCase()}_RING_SIZE`, r.entries, `Slots in a one-page ${r.name} ring (${r.slotSize}-byte slots).`)),
  ],
};
