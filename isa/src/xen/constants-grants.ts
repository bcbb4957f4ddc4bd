// Grant tables: grant_table_op commands, entry flags, mapping flags and status codes.

import { c } from './define.js';
import type { XenConstantGroup } from './types.js';

export const GNTTABOP: XenConstantGroup = {
  id: 'GNTTABOP',
  doc: 'grant_table_op commands; uop points to an array of count structs of the named kind.',
  source: 'xen/include/public/grant_table.h',
  distinct: true,
  constants: [
    c('GNTTABOP_map_grant_ref', 0, 'Map a foreign grant (struct gnttab_map_grant_ref).'),
    c('GNTTABOP_unmap_grant_ref', 1, 'Unmap a mapped grant (struct gnttab_unmap_grant_ref).'),
    c('GNTTABOP_setup_table', 2, 'Get the frames of the grant table (struct gnttab_setup_table).'),
    c('GNTTABOP_dump_table', 3, 'Dump a grant table to the Xen console (debug).'),
    c('GNTTABOP_transfer', 4, 'Give a page to another domain.'),
    c('GNTTABOP_copy', 5, 'Copy between grants and/or frames (struct gnttab_copy).'),
    c('GNTTABOP_query_size', 6, 'Current and maximum table size (struct gnttab_query_size).'),
    c('GNTTABOP_unmap_and_replace', 7, 'Unmap a grant and put another mapping in its place.'),
    c('GNTTABOP_set_version', 8, 'Select grant-table version 1 or 2.'),
    c('GNTTABOP_get_status_frames', 9, 'Frames of the v2 status table.'),
    c('GNTTABOP_get_version', 10, 'Current grant-table version.'),
    c('GNTTABOP_swap_grant_ref', 11, 'Swap two grant entries.'),
    c('GNTTABOP_cache_flush', 12, 'Cache maintenance on a grant (Arm).'),
  ],
};

export const GTF: XenConstantGroup = {
  id: 'GTF',
  doc: 'grant_entry_v1.flags: the type in bits 0-1, then flags written by the granter [GST] or by Xen [XEN].',
  source: 'xen/include/public/grant_table.h',
  distinct: false,
  constants: [
    c('GTF_invalid', 0, 'Entry grants nothing.'),
    c('GTF_permit_access', 1, 'Allow domid to map/access frame.'),
    c('GTF_accept_transfer', 2, 'Allow domid to transfer ownership of one page to this guest; Xen writes the frame number.'),
    c('GTF_transitive', 3, 'Allow domid transitive access to a subrange of another grant (v2 entries).'),
    c('GTF_type_mask', 3, 'Mask of the type bits.'),
    c('GTF_readonly', 1 << 2, '[GST] Access is read-only.'),
    c('GTF_reading', 1 << 3, '[XEN] The entry is currently mapped for reading by domid.'),
    c('GTF_writing', 1 << 4, '[XEN] The entry is currently mapped for writing by domid.'),
    c('GTF_PWT', 1 << 5, '[GST] x86 cache attribute (PWT) for mappings of the grant.'),
    c('GTF_PCD', 1 << 6, '[GST] x86 cache attribute (PCD) for mappings of the grant.'),
    c('GTF_PAT', 1 << 7, '[GST] x86 cache attribute (PAT) for mappings of the grant.'),
    c('GTF_sub_page', 1 << 8, '[GST] Grant only a subrange of the page (copy only, no map).'),
    c('GTF_transfer_committed', 1 << 2, '[XEN] Transfer: Xen is committed to the transfer; do not modify the entry.'),
    c('GTF_transfer_completed', 1 << 3, '[XEN] Transfer: complete; frame holds the transferred frame.'),
  ],
};

export const GNTMAP: XenConstantGroup = {
  id: 'GNTMAP',
  doc: 'gnttab_map_grant_ref.flags.',
  source: 'xen/include/public/grant_table.h',
  distinct: true,
  constants: [
    c('GNTMAP_device_map', 1 << 0, 'Map for access by I/O devices; returns dev_bus_addr.'),
    c('GNTMAP_host_map', 1 << 1, 'Map for access by host CPUs at host_addr.'),
    c('GNTMAP_readonly', 1 << 2, 'Map read-only.'),
    c('GNTMAP_application_map', 1 << 3, 'With host_map: the mapping is usable by the current application too.'),
    c('GNTMAP_contains_pte', 1 << 4, 'host_addr is the machine address of a PTE to update.'),
  ],
};

export const GNTCOPY: XenConstantGroup = {
  id: 'GNTCOPY',
  doc: 'gnttab_copy.flags: which side is named by a grant reference rather than a frame.',
  source: 'xen/include/public/grant_table.h',
  distinct: true,
  constants: [
    c('GNTCOPY_source_gref', 1 << 0, 'source.u is a grant reference.'),
    c('GNTCOPY_dest_gref', 1 << 1, 'dest.u is a grant reference.'),
  ],
};

export const GNTST: XenConstantGroup = {
  id: 'GNTST',
  doc: 'Per-operation status codes written into the status field of grant-table structs.',
  source: 'xen/include/public/grant_table.h',
  distinct: true,
  constants: [
    c('GNTST_okay', 0, 'Success.'),
    c('GNTST_general_error', -1, 'General undefined error.'),
    c('GNTST_bad_domain', -2, 'Unrecognised domain id.'),
    c('GNTST_bad_gntref', -3, 'Unrecognised or inappropriate grant reference.'),
    c('GNTST_bad_handle', -4, 'Unrecognised or inappropriate handle.'),
    c('GNTST_bad_virt_addr', -5, 'Inappropriate virtual address to map.'),
    c('GNTST_bad_dev_addr', -6, 'Inappropriate device address to unmap.'),
    c('GNTST_no_device_space', -7, 'Out of space in the I/O MMU.'),
    c('GNTST_permission_denied', -8, 'Not enough privilege.'),
    c('GNTST_bad_page', -9, 'Specified page was invalid for the operation.'),
    c('GNTST_bad_copy_arg', -10, 'Copy arguments cross a page boundary.'),
    c('GNTST_address_too_big', -11, 'Transfer page address too large.'),
    c('GNTST_eagain', -12, 'Not done; try again.'),
    c('GNTST_no_space', -13, 'Out of space (handles etc.).'),
  ],
};

export const GNTTAB_RESERVED: XenConstantGroup = {
  id: 'GNTTAB_RESERVED',
  doc: 'Grant entries reserved for the toolstack.',
  source: 'xen/include/public/grant_table.h',
  distinct: false,
  constants: [
    c('GNTTAB_NR_RESERVED_ENTRIES', 8, 'Entries 0..7 are kept across version changes and may be pre-filled by the tools.'),
    c('GNTTAB_RESERVED_CONSOLE', 0, 'Grant of the console ring page.'),
    c('GNTTAB_RESERVED_XENSTORE', 1, 'Grant of the xenstore ring page.'),
  ],
};
