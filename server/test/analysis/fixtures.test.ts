// Every fixture's findings, against the expectations written inline in it (see expect.ts).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze, RULES } from '../../src/analysis/index.js';
import { compare, parseExpectations } from './expect.js';
import { FIXTURES, fixtureNames, optionsOf, provider, readText } from './util.js';

describe('analysis fixtures', () => {
  for (const name of fixtureNames()) {
    it(name, () => {
      const path = join(FIXTURES, name);
      const text = readFileSync(path, 'utf8');
      const expected = parseExpectations(text);
      const { findings } = analyze({ path, text, provider }, optionsOf(text));
      expect(compare(findings, expected, path, readText)).toEqual([]);
    });
  }

  it('every rule code is exercised by some fixture', () => {
    const codes = new Set<string>();
    for (const name of fixtureNames()) for (const e of parseExpectations(readFileSync(join(FIXTURES, name), 'utf8'))) codes.add(e.code);
    expect([...codes].sort()).toEqual(RULES.map((r) => r.code).sort());
  });
});
