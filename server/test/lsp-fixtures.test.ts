// The analysis fixtures again, through the real server over LSP: what an editor is sent
// for each fixture (code, severity, range, message, related locations) must be exactly
// the findings its inline markers expect.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Diagnostic } from 'vscode-languageserver/node';
import type { Finding } from '../src/analysis/index.js';
import { pathToUri, uriToPath } from '../src/server.js';
import { compare, parseExpectations } from './analysis/expect.js';
import { FIXTURES, fixtureNames, optionsOf, readText } from './analysis/util.js';
import { InProcessClient } from './inprocess.js';

const SEVERITY = ['', 'error', 'warning', 'info', 'hint'] as const;

function asFinding(path: string, d: Diagnostic): Finding {
  const range = (r: Diagnostic['range']) => ({ start: { line: r.start.line, column: r.start.character }, end: { line: r.end.line, column: r.end.character } });
  return {
    code: String(d.code), severity: SEVERITY[d.severity ?? 1] as Finding['severity'], file: path, range: range(d.range), message: typeof d.message === 'string' ? d.message : d.message.value,
    related: (d.relatedInformation ?? []).map((r) => ({ file: uriToPath(r.location.uri), range: range(r.location.range), message: r.message })),
    fixes: [],
  };
}

describe('analysis fixtures over LSP', () => {
  const client = new InProcessClient();
  beforeAll(() => client.initialize());
  afterAll(() => client.dispose());

  for (const name of fixtureNames()) {
    it(name, async () => {
      const path = join(FIXTURES, name);
      const text = readFileSync(path, 'utf8');
      client.conn.sendNotification('workspace/didChangeConfiguration', { settings: { xenolab: optionsOf(text) } });
      const uri = pathToUri(path);
      const diagnostics = await client.open(uri, text);
      client.close(uri);
      expect(diagnostics.every((d) => d.source === 'xenolab')).toBe(true);
      expect(compare(diagnostics.map((d) => asFinding(path, d)), parseExpectations(text), path, readText)).toEqual([]);
    });
  }
});
