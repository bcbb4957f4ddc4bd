// asm: the NASM-syntax assembler and disassembler. The language server, the debugger,
// the CLI and the playground use it through this module.
export { assemble, flatBinary, MAX_SECTION_BYTES, type AssembleOptions, type AssembleResult, type ListingRow, type MacroLabel, type RowView } from './assembler.js';
export { BUILTIN_PREFIX, builtinInclude, withBuiltins } from './builtins.js';
export { formatDiagnostic, type Diagnostic, type Related, type Severity } from './diagnostics.js';
export { disassemble, formatInstruction, formatLine, type DisasmLine, type FormatOptions, type SymbolRef } from './disasm.js';
export { encodeInstruction, type EncodeRequest, type EncodeResult, type ResolvedOperand } from './encoder.js';
export { evaluate, EvalError, low32, type EvalEnv, type Value } from './expr.js';
export type { Image, ImageNote, ImageSection, ImageSymbol, LineRow } from './image.js';
export { tokenize, type Token, type TokenKind } from './lexer.js';
export { formatListing } from './listing.js';
export { parseLine, parseNumber, reservedWord } from './parser.js';
export { MACRO_OPENERS, namesDefinedBy, preprocess, PREPROCESSOR_DIRECTIVES, PREPROCESSOR_FUNCTIONS, splitArgs, type ExpandedLine, type Frame, type PreprocessResult } from './preprocessor.js';
export { dirName, lineColumn, makeSourceFile, resolvePath, type SourceFile, type SourceProvider } from './source.js';
export type { DataItem, Expr, Label, LineNode, Name, OperandNode, Span, Statement } from './syntax.js';
export { someLeaf } from './syntax.js';
export { instructionText } from './unparse.js';
export { XEN_INCLUDE_NAME, xenIncludeSource } from './xenInclude.js';
export { readElf32, writeElf32, elfToImage, isElfError, type ElfFile, type ElfWriteOptions } from './elf/elf32.js';
export { decodeNotes, encodeNote, noteNumber, noteString } from './elf/notes.js';
export { decodeDebugLine, encodeDebugLine } from './elf/dwarfLine.js';
