// i386 layouts of grant-table entries and grant_table_op argument structs
// (xen/include/public/grant_table.h).

import { f } from './define.js';
import type { StructLayout } from './types.js';

export const GRANT_ENTRY_V1: StructLayout = {
  name: 'grant_entry_v1', size: 8, align: 4, header: 'grant_table.h',
  doc: 'One v1 grant-table entry; write domid and frame, then (after a write barrier) flags.',
  fields: [
    f('flags', 0, 2, 'uint16_t', 'GTF_* type and flags.'),
    f('domid', 2, 2, 'domid_t', 'Domain being granted access.'),
    f('frame', 4, 4, 'uint32_t', 'Granted frame (MFN for PV), or transfer target.'),
  ],
};

export const GNTTAB_SETUP_TABLE: StructLayout = {
  name: 'gnttab_setup_table', size: 16, align: 4, header: 'grant_table.h',
  doc: 'GNTTABOP_setup_table: get the machine frames of a grant table.',
  fields: [
    f('dom', 0, 2, 'domid_t', 'IN: domain (DOMID_SELF).'),
    f('nr_frames', 4, 4, 'uint32_t', 'IN: number of frames wanted.'),
    f('status', 8, 2, 'int16_t', 'OUT: GNTST_*.'),
    f('frame_list', 12, 4, 'XEN_GUEST_HANDLE(xen_pfn_t)', 'OUT: array receiving the frames.'),
  ],
};

export const GNTTAB_MAP_GRANT_REF: StructLayout = {
  name: 'gnttab_map_grant_ref', size: 32, align: 4, header: 'grant_table.h',
  doc: 'GNTTABOP_map_grant_ref: map a grant of another domain.',
  fields: [
    f('host_addr', 0, 8, 'uint64_t', 'IN: virtual address (or PTE machine address with GNTMAP_contains_pte).'),
    f('flags', 8, 4, 'uint32_t', 'IN: GNTMAP_*.'),
    f('ref', 12, 4, 'grant_ref_t', 'IN: grant reference.'),
    f('dom', 16, 2, 'domid_t', 'IN: granting domain.'),
    f('status', 18, 2, 'int16_t', 'OUT: GNTST_*.'),
    f('handle', 20, 4, 'grant_handle_t', 'OUT: handle for unmapping.'),
    f('dev_bus_addr', 24, 8, 'uint64_t', 'OUT: bus address with GNTMAP_device_map.'),
  ],
};

export const GNTTAB_UNMAP_GRANT_REF: StructLayout = {
  name: 'gnttab_unmap_grant_ref', size: 24, align: 4, header: 'grant_table.h',
  doc: 'GNTTABOP_unmap_grant_ref.',
  fields: [
    f('host_addr', 0, 8, 'uint64_t', 'IN: address given to the map.'),
    f('dev_bus_addr', 8, 8, 'uint64_t', 'IN: bus address returned by the map.'),
    f('handle', 16, 4, 'grant_handle_t', 'IN: handle returned by the map.'),
    f('status', 20, 2, 'int16_t', 'OUT: GNTST_*.'),
  ],
};

export const GNTTAB_COPY: StructLayout = {
  name: 'gnttab_copy', size: 24, align: 4, header: 'grant_table.h',
  doc: 'GNTTABOP_copy: copy len bytes between grants and/or frames.',
  fields: [
    f('source.u.ref', 0, 4, 'grant_ref_t', 'Source grant (with GNTCOPY_source_gref).', { union: 'source.u' }),
    f('source.u.gmfn', 0, 4, 'xen_pfn_t', 'Source frame (without GNTCOPY_source_gref).', { union: 'source.u' }),
    f('source.domid', 4, 2, 'domid_t', 'Source domain.'),
    f('source.offset', 6, 2, 'uint16_t', 'Byte offset in the source page.'),
    f('dest.u.ref', 8, 4, 'grant_ref_t', 'Destination grant (with GNTCOPY_dest_gref).', { union: 'dest.u' }),
    f('dest.u.gmfn', 8, 4, 'xen_pfn_t', 'Destination frame (without GNTCOPY_dest_gref).', { union: 'dest.u' }),
    f('dest.domid', 12, 2, 'domid_t', 'Destination domain.'),
    f('dest.offset', 14, 2, 'uint16_t', 'Byte offset in the destination page.'),
    f('len', 16, 2, 'uint16_t', 'Bytes to copy (may not cross a page).'),
    f('flags', 18, 2, 'uint16_t', 'GNTCOPY_*.'),
    f('status', 20, 2, 'int16_t', 'OUT: GNTST_*.'),
  ],
};

export const GNTTAB_QUERY_SIZE: StructLayout = {
  name: 'gnttab_query_size', size: 16, align: 4, header: 'grant_table.h',
  doc: 'GNTTABOP_query_size.',
  fields: [
    f('dom', 0, 2, 'domid_t', 'IN: domain.'),
    f('nr_frames', 4, 4, 'uint32_t', 'OUT: current frames.'),
    f('max_nr_frames', 8, 4, 'uint32_t', 'OUT: maximum frames.'),
    f('status', 12, 2, 'int16_t', 'OUT: GNTST_*.'),
  ],
};
