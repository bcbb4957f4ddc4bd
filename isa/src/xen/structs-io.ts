// i386 layouts of the split-driver shared pages: the generic ring header of io/ring.h,
// block and network ring entries, the console ring and the xenstore ring.

import { f } from './define.js';
import type { StructLayout } from './types.js';

export const SRING: StructLayout = {
  name: 'sring', size: 64, align: 4, header: 'io/ring.h',
  doc: 'Header of every NAME_sring made by DEFINE_RING_TYPES; the entries start at .ring (offset 64). Indices are free-running.',
  fields: [
    f('req_prod', 0, 4, 'RING_IDX', 'Requests published by the frontend.'),
    f('req_event', 4, 4, 'RING_IDX', 'Backend wants a notification when req_prod passes this.'),
    f('rsp_prod', 8, 4, 'RING_IDX', 'Responses published by the backend.'),
    f('rsp_event', 12, 4, 'RING_IDX', 'Frontend wants a notification when rsp_prod passes this.'),
    f('pvt.pvt_pad', 16, 4, 'uint8_t[4]', 'Protocol-private bytes.', { count: 4, union: 'pvt' }),
    f('pvt.netif.smartpoll_active', 16, 1, 'uint8_t', 'netif: smart polling is active.', { union: 'pvt' }),
    f('pvt.tapif_user.msg', 16, 1, 'uint8_t', 'tapif: message byte.', { union: 'pvt' }),
    f('__pad', 20, 44, 'uint8_t[44]', 'Padding up to the entries.', { count: 44 }),
    f('ring', 64, 0, 'union NAME_sring_entry[]', 'The entries (request/response union); count from ringEntries().'),
  ],
};

export const BLKIF_REQUEST_SEGMENT: StructLayout = {
  name: 'blkif_request_segment', size: 8, align: 4, header: 'io/blkif.h',
  doc: 'One data segment of a block request: sectors first_sect..last_sect (512-byte units) of a granted page.',
  fields: [
    f('gref', 0, 4, 'grant_ref_t', 'Grant of the I/O buffer page.'),
    f('first_sect', 4, 1, 'uint8_t', 'First sector in the page (inclusive).'),
    f('last_sect', 5, 1, 'uint8_t', 'Last sector in the page (inclusive).'),
  ],
};

export const BLKIF_REQUEST: StructLayout = {
  name: 'blkif_request', size: 108, align: 4, header: 'io/blkif.h',
  doc: 'Block read/write request.',
  fields: [
    f('operation', 0, 1, 'uint8_t', 'BLKIF_OP_*.'),
    f('nr_segments', 1, 1, 'uint8_t', 'Segments used (1..11).'),
    f('handle', 2, 2, 'uint16_t', 'Virtual device handle (blkif_vdev_t).'),
    f('id', 4, 8, 'uint64_t', 'Guest cookie echoed in the response.'),
    f('sector_number', 12, 8, 'uint64_t', 'Start sector on the disk (512-byte units).'),
    f('seg', 20, 88, 'struct blkif_request_segment[11]', 'Data segments.', { count: 11, struct: 'blkif_request_segment' }),
  ],
};

export const BLKIF_RESPONSE: StructLayout = {
  name: 'blkif_response', size: 12, align: 4, header: 'io/blkif.h',
  doc: 'Block response.',
  fields: [
    f('id', 0, 8, 'uint64_t', 'Copied from the request.'),
    f('operation', 8, 1, 'uint8_t', 'Copied from the request.'),
    f('status', 10, 2, 'int16_t', 'BLKIF_RSP_*.'),
  ],
};

export const NETIF_TX_REQUEST: StructLayout = {
  name: 'netif_tx_request', size: 12, align: 4, header: 'io/netif.h',
  doc: 'Network transmit request: one granted buffer fragment.',
  fields: [
    f('gref', 0, 4, 'grant_ref_t', 'Grant of the buffer page.'),
    f('offset', 4, 2, 'uint16_t', 'Offset of the data in the page.'),
    f('flags', 6, 2, 'uint16_t', 'NETTXF_*.'),
    f('id', 8, 2, 'uint16_t', 'Echoed in the response.'),
    f('size', 10, 2, 'uint16_t', 'Packet size in bytes (first request of a packet).'),
  ],
};

export const NETIF_TX_RESPONSE: StructLayout = {
  name: 'netif_tx_response', size: 4, align: 2, header: 'io/netif.h',
  doc: 'Network transmit response.',
  fields: [
    f('id', 0, 2, 'uint16_t', 'Request id.'),
    f('status', 2, 2, 'int16_t', 'NETIF_RSP_*.'),
  ],
};

export const NETIF_RX_REQUEST: StructLayout = {
  name: 'netif_rx_request', size: 8, align: 4, header: 'io/netif.h',
  doc: 'Network receive request: post an empty granted buffer.',
  fields: [
    f('id', 0, 2, 'uint16_t', 'Echoed in the response.'),
    f('pad', 2, 2, 'uint16_t', 'Padding.'),
    f('gref', 4, 4, 'grant_ref_t', 'Grant of the empty buffer page.'),
  ],
};

export const NETIF_RX_RESPONSE: StructLayout = {
  name: 'netif_rx_response', size: 8, align: 2, header: 'io/netif.h',
  doc: 'Network receive response.',
  fields: [
    f('id', 0, 2, 'uint16_t', 'Request id.'),
    f('offset', 2, 2, 'uint16_t', 'Offset of the data in the page.'),
    f('flags', 4, 2, 'uint16_t', 'NETRXF_*.'),
    f('status', 6, 2, 'int16_t', 'Length in bytes if > 0, else NETIF_RSP_*.'),
  ],
};

export const XENCONS_INTERFACE: StructLayout = {
  name: 'xencons_interface', size: 3092, align: 4, header: 'io/console.h',
  doc: 'Console ring page (frame start_info.console.domU.mfn); index & (sizeof ring - 1) selects the byte.',
  fields: [
    f('in', 0, 1024, 'char[1024]', 'Backend-to-guest bytes.', { count: 1024 }),
    f('out', 1024, 2048, 'char[2048]', 'Guest-to-backend bytes.', { count: 2048 }),
    f('in_cons', 3072, 4, 'XENCONS_RING_IDX', 'Guest has consumed in[] up to here.'),
    f('in_prod', 3076, 4, 'XENCONS_RING_IDX', 'Backend has produced in[] up to here.'),
    f('out_cons', 3080, 4, 'XENCONS_RING_IDX', 'Backend has consumed out[] up to here.'),
    f('out_prod', 3084, 4, 'XENCONS_RING_IDX', 'Guest has produced out[] up to here.'),
    f('connection', 3088, 1, 'uint8_t', 'XENCONSOLE_CONNECTED / DISCONNECTED (Xen 4.21+; older headers end at 3088).'),
  ],
};

export const XENSTORE_DOMAIN_INTERFACE: StructLayout = {
  name: 'xenstore_domain_interface', size: 2076, align: 4, header: 'io/xs_wire.h',
  doc: 'Xenstore ring page (frame start_info.store_mfn).',
  fields: [
    f('req', 0, 1024, 'char[1024]', 'Requests to xenstored.', { count: 1024 }),
    f('rsp', 1024, 1024, 'char[1024]', 'Replies and watch events.', { count: 1024 }),
    f('req_cons', 2048, 4, 'XENSTORE_RING_IDX', 'xenstored has consumed req[] up to here.'),
    f('req_prod', 2052, 4, 'XENSTORE_RING_IDX', 'Guest has produced req[] up to here.'),
    f('rsp_cons', 2056, 4, 'XENSTORE_RING_IDX', 'Guest has consumed rsp[] up to here.'),
    f('rsp_prod', 2060, 4, 'XENSTORE_RING_IDX', 'xenstored has produced rsp[] up to here.'),
    f('server_features', 2064, 4, 'uint32_t', 'XENSTORE_SERVER_FEATURE_* bits.'),
    f('connection', 2068, 4, 'uint32_t', 'XENSTORE_CONNECTED / RECONNECT.'),
    f('error', 2072, 4, 'uint32_t', 'XENSTORE_ERROR_*.'),
  ],
};

export const XSD_SOCKMSG: StructLayout = {
  name: 'xsd_sockmsg', size: 16, align: 4, header: 'io/xs_wire.h',
  doc: 'Header of every xenstore message; len payload bytes follow.',
  fields: [
    f('type', 0, 4, 'uint32_t', 'XS_* message type.'),
    f('req_id', 4, 4, 'uint32_t', 'Request id, echoed in the reply.'),
    f('tx_id', 8, 4, 'uint32_t', 'Transaction id (0 = none).'),
    f('len', 12, 4, 'uint32_t', 'Payload length.'),
  ],
};
