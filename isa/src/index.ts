// isa: the machine's facts as data. Imports nothing.
export * from './registers.js';
export * from './conditions.js';
export * from './operands.js';
export * from './instructions.js';
export * from './xen/index.js';
export * from './decoder.js';
export * from './unsupported.js';
