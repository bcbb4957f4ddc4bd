// A one-DIE DWARF 4 compile unit. BFD (addr2line, objdump -l) and gdb find line
// tables through the compile units of .debug_info, so a bare .debug_line is not
// enough for them to map addresses to source lines.

import { ByteWriter } from './bytes.js';

export interface CompileUnit {
  producer: string;
  /** Primary source file. */
  name: string;
  compDir?: string;
  lowPc: number;
  /** End (exclusive) of the code the unit covers. */
  highPc: number;
  /** Offset of this unit's line program in .debug_line. */
  stmtList: number;
}

const DW_TAG_compile_unit = 0x11;
const DW_AT_name = 0x03;
const DW_AT_stmt_list = 0x10;
const DW_AT_low_pc = 0x11;
const DW_AT_high_pc = 0x12;
const DW_AT_language = 0x13;
const DW_AT_comp_dir = 0x1b;
const DW_AT_producer = 0x25;
const DW_FORM_addr = 0x01;
const DW_FORM_data2 = 0x05;
const DW_FORM_data4 = 0x06;
const DW_FORM_string = 0x08;
const DW_FORM_sec_offset = 0x17;
/** What gas records for assembly sources; gdb then treats the unit as "asm". */
const DW_LANG_Mips_Assembler = 0x8001;

export function encodeCompileUnit(cu: CompileUnit): { info: Uint8Array; abbrev: Uint8Array } {
  const attrs: [number, number, (w: ByteWriter) => void][] = [
    [DW_AT_producer, DW_FORM_string, (w) => w.cstring(cu.producer)],
    [DW_AT_language, DW_FORM_data2, (w) => w.u16(DW_LANG_Mips_Assembler)],
    [DW_AT_name, DW_FORM_string, (w) => w.cstring(cu.name)],
  ];
  if (cu.compDir !== undefined) attrs.push([DW_AT_comp_dir, DW_FORM_string, (w) => w.cstring(cu.compDir ?? '')]);
  attrs.push(
    [DW_AT_stmt_list, DW_FORM_sec_offset, (w) => w.u32(cu.stmtList)],
    [DW_AT_low_pc, DW_FORM_addr, (w) => w.u32(cu.lowPc)],
    // DWARF 4 allows high_pc as a constant: the length from low_pc.
    [DW_AT_high_pc, DW_FORM_data4, (w) => w.u32(cu.highPc - cu.lowPc)],
  );

  const abbrev = new ByteWriter().uleb(1).uleb(DW_TAG_compile_unit).u8(0); // code 1, no children
  for (const [at, form] of attrs) abbrev.uleb(at).uleb(form);
  abbrev.u8(0).u8(0).u8(0); // end of attributes, end of table

  const body = new ByteWriter().u16(4).u32(0).u8(4).uleb(1); // version, abbrev offset, address size, DIE
  for (const [, , write] of attrs) write(body);
  const unit = body.finish();
  const info = new ByteWriter().u32(unit.length).bytes(unit).finish();
  return { info, abbrev: abbrev.finish() };
}
