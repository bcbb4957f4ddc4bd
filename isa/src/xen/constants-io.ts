// Split-driver protocols: block and network ring requests, xenbus states, the xenstore
// wire protocol and the console ring.

import { c } from './define.js';
import type { XenConstantGroup } from './types.js';

export const BLKIF: XenConstantGroup = {
  id: 'BLKIF',
  doc: 'Block front/back protocol: request operations (blkif_request.operation) and limits.',
  source: 'xen/include/public/io/blkif.h',
  distinct: false,
  constants: [
    c('BLKIF_OP_READ', 0, 'Read sectors into the segments.'),
    c('BLKIF_OP_WRITE', 1, 'Write sectors from the segments.'),
    c('BLKIF_OP_WRITE_BARRIER', 2, 'Write ordered after all earlier writes and before all later ones (optional).'),
    c('BLKIF_OP_FLUSH_DISKCACHE', 3, 'Commit the device\'s volatile cache to stable storage (optional).'),
    c('BLKIF_OP_RESERVED_1', 4, 'Reserved (device-specific packets in SLES).'),
    c('BLKIF_OP_DISCARD', 5, 'Discard (trim) a region (optional; struct blkif_request_discard).'),
    c('BLKIF_OP_INDIRECT', 6, 'Request whose segments live in indirect pages (optional).'),
    c('BLKIF_MAX_SEGMENTS_PER_REQUEST', 11, 'Segments in blkif_request.seg.'),
    c('BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST', 8, 'Indirect pages per BLKIF_OP_INDIRECT request.'),
    c('VDISK_CDROM', 0x1, 'Virtual disk info bit: CD-ROM.'),
    c('VDISK_REMOVABLE', 0x2, 'Virtual disk info bit: removable.'),
    c('VDISK_READONLY', 0x4, 'Virtual disk info bit: read-only.'),
  ],
};

export const BLKIF_RSP: XenConstantGroup = {
  id: 'BLKIF_RSP',
  doc: 'blkif_response.status values.',
  source: 'xen/include/public/io/blkif.h',
  distinct: true,
  constants: [
    c('BLKIF_RSP_EOPNOTSUPP', -2, 'Operation not supported (only on barrier writes).'),
    c('BLKIF_RSP_ERROR', -1, 'Operation failed (-EIO).'),
    c('BLKIF_RSP_OKAY', 0, 'Operation completed successfully.'),
  ],
};

export const NETIF: XenConstantGroup = {
  id: 'NETIF',
  doc: 'Network front/back protocol: TX/RX request flags, response status values and limits.',
  source: 'xen/include/public/io/netif.h',
  distinct: false,
  constants: [
    c('NETTXF_csum_blank', 1 << 0, 'TX: protocol checksum field is blank (offload).'),
    c('NETTXF_data_validated', 1 << 1, 'TX: data already validated against its checksum.'),
    c('NETTXF_more_data', 1 << 2, 'TX: packet continues in the next request.'),
    c('NETTXF_extra_info', 1 << 3, 'TX: followed by extra-info descriptor(s).'),
    c('NETRXF_data_validated', 1 << 0, 'RX: data validated against its checksum.'),
    c('NETRXF_csum_blank', 1 << 1, 'RX: protocol checksum field is blank.'),
    c('NETRXF_more_data', 1 << 2, 'RX: packet continues in the next response.'),
    c('NETRXF_extra_info', 1 << 3, 'RX: followed by extra-info descriptor(s).'),
    c('NETRXF_gso_prefix', 1 << 4, 'RX: packet has a GSO prefix (deprecated).'),
    c('NETIF_RSP_DROPPED', -2, 'Response status: packet dropped.'),
    c('NETIF_RSP_ERROR', -1, 'Response status: error.'),
    c('NETIF_RSP_OKAY', 0, 'Response status: success (RX: a positive status is the length).'),
    c('NETIF_RSP_NULL', 1, 'Response status: no response (auxiliary requests).'),
    c('XEN_NETIF_NR_SLOTS_MIN', 18, 'Minimum TX slots a backend must accept for one packet.'),
    c('XEN_NETIF_MAX_TX_SIZE', 0xffff, 'Largest TX packet in bytes.'),
  ],
};

export const XENBUS_STATE: XenConstantGroup = {
  id: 'XENBUS_STATE',
  doc: 'enum xenbus_state: the "state" node each split-driver end publishes in xenstore.',
  source: 'xen/include/public/io/xenbus.h',
  distinct: true,
  constants: [
    c('XenbusStateUnknown', 0, 'Unknown.'),
    c('XenbusStateInitialising', 1, 'Initialising.'),
    c('XenbusStateInitWait', 2, 'Early init done; waiting for the peer or hotplug scripts.'),
    c('XenbusStateInitialised', 3, 'Initialised; waiting for a connection from the peer.'),
    c('XenbusStateConnected', 4, 'Connected.'),
    c('XenbusStateClosing', 5, 'Being closed (error or unplug).'),
    c('XenbusStateClosed', 6, 'Closed.'),
    c('XenbusStateReconfiguring', 7, 'Being reconfigured.'),
    c('XenbusStateReconfigured', 8, 'Reconfigured.'),
  ],
};

export const XS: XenConstantGroup = {
  id: 'XS',
  doc: 'enum xsd_sockmsg_type: xenstore wire message types (xsd_sockmsg.type).',
  source: 'xen/include/public/io/xs_wire.h',
  distinct: true,
  constants: [
    c('XS_CONTROL', 0, 'Control/debug command (also XS_DEBUG).'),
    c('XS_DIRECTORY', 1, 'List the children of a path.'),
    c('XS_READ', 2, 'Read a node.'),
    c('XS_GET_PERMS', 3, 'Read a node\'s permissions.'),
    c('XS_WATCH', 4, 'Watch a path (payload: path, token).'),
    c('XS_UNWATCH', 5, 'Remove a watch.'),
    c('XS_TRANSACTION_START', 6, 'Start a transaction; the reply is its id.'),
    c('XS_TRANSACTION_END', 7, 'Commit ("T") or abort ("F") a transaction.'),
    c('XS_INTRODUCE', 8, 'Introduce a domain to xenstored (privileged).'),
    c('XS_RELEASE', 9, 'Release a domain (privileged).'),
    c('XS_GET_DOMAIN_PATH', 10, 'Home path of a domain.'),
    c('XS_WRITE', 11, 'Write a node.'),
    c('XS_MKDIR', 12, 'Create a node.'),
    c('XS_RM', 13, 'Remove a node.'),
    c('XS_SET_PERMS', 14, 'Set a node\'s permissions.'),
    c('XS_WATCH_EVENT', 15, 'Asynchronous watch event (path, token).'),
    c('XS_ERROR', 16, 'Error reply; payload is the errno name.'),
    c('XS_IS_DOMAIN_INTRODUCED', 17, 'Whether a domain was introduced.'),
    c('XS_RESUME', 18, 'Resume a domain\'s connection.'),
    c('XS_SET_TARGET', 19, 'Set a domain\'s target (device-model stub domains).'),
    c('XS_RESET_WATCHES', 21, 'Drop all watches of the connection.'),
    c('XS_DIRECTORY_PART', 22, 'Partial directory listing.'),
    c('XS_INVALID', 0xffff, 'Guaranteed invalid type.'),
  ],
};

export const XS_WATCH: XenConstantGroup = {
  id: 'XS_WATCH',
  doc: 'enum xs_watch_type: positions of the NUL-separated strings in an XS_WATCH_EVENT payload.',
  source: 'xen/include/public/io/xs_wire.h',
  distinct: true,
  constants: [
    c('XS_WATCH_PATH', 0, 'The path that changed.'),
    c('XS_WATCH_TOKEN', 1, 'The token given to XS_WATCH.'),
  ],
};

export const XENSTORE: XenConstantGroup = {
  id: 'XENSTORE',
  doc: 'Xenstore ring page (struct xenstore_domain_interface) sizes and states.',
  source: 'xen/include/public/io/xs_wire.h',
  distinct: false,
  constants: [
    c('XENSTORE_RING_SIZE', 1024, 'Bytes in each of the req and rsp rings.'),
    c('XENSTORE_PAYLOAD_MAX', 4096, 'Largest message payload.'),
    c('XENSTORE_ABS_PATH_MAX', 3072, 'Longest absolute path.'),
    c('XENSTORE_REL_PATH_MAX', 2048, 'Longest relative path.'),
    c('XENSTORE_SERVER_FEATURE_RECONNECTION', 1, 'Server can reconnect a ring.'),
    c('XENSTORE_SERVER_FEATURE_ERROR', 2, 'Ring page has the error field.'),
    c('XENSTORE_CONNECTED', 0, 'connection: steady state.'),
    c('XENSTORE_RECONNECT', 1, 'connection: reconnect in progress.'),
    c('XENSTORE_ERROR_NONE', 0, 'error: none.'),
    c('XENSTORE_ERROR_COMM', 1, 'error: communication problem.'),
    c('XENSTORE_ERROR_RINGIDX', 2, 'error: invalid ring index.'),
    c('XENSTORE_ERROR_PROTO', 3, 'error: protocol violation (payload too long).'),
  ],
};

export const XENCONSOLE: XenConstantGroup = {
  id: 'XENCONSOLE',
  doc: 'Console ring page (struct xencons_interface): values of the connection byte (Xen 4.21+).',
  source: 'xen/include/public/io/console.h',
  distinct: true,
  constants: [
    c('XENCONSOLE_CONNECTED', 0, 'The backend services the ring (also the value of zeroed pages from older tools).'),
    c('XENCONSOLE_DISCONNECTED', 1, 'Nobody services the ring yet; writes would just fill it.'),
  ],
};
