// Hover text for words the index does not define: instructions (and the IA-32 ones the
// table lacks), registers, nothing for other words.

import { describe, expect, it } from 'vitest';
import { hoverFor } from '../src/language/hover.js';

describe('hover', () => {
  it('names an IA-32 instruction xenolab lacks as such, and says nothing of an unknown word', () => {
    expect(hoverFor('cli', null)).toMatch(/^\*\*cli\*\* — .*\n\n\*\*Privileged\*\*/);
    expect(hoverFor('DAA', null)).toBe("'DAA' is an IA-32 instruction xenolab does not implement (BCD arithmetic).");
    expect(hoverFor('esp', null)).toMatch(/^\*\*esp\*\* — 32-bit r32 register/);
    expect(hoverFor('no_such_word', null)).toBeNull();
  });
});
