// The shareable link: every seed's workspace (texts and disk images) survives a round trip
// through the URL fragment, deflated and plain, and a damaged fragment gives null.

import { describe, expect, it } from 'vitest';
import { seeds } from '../build.mjs';
import { decodeWorkspace, encodeWorkspace, type Workspace } from '../src/workspace.js';

describe('share links', () => {
  const all = seeds() as Record<string, Workspace>;

  it('carry every seed\'s workspace through the fragment, deflated', async () => {
    expect(Object.keys(all).length).toBeGreaterThan(5);
    for (const [name, ws] of Object.entries(all)) {
      const fragment = await encodeWorkspace(ws);
      expect(fragment.startsWith('z='), name).toBe(true);
      expect(await decodeWorkspace('#' + fragment), name).toEqual(ws);
    }
    // Deflate pays: the blkfront seed (its disk image included) is smaller in the link than as JSON.
    expect((await encodeWorkspace(all.blkfront!)).length).toBeLessThan(JSON.stringify(all.blkfront).length);
  });

  it('read the plain form too, and refuse damaged or foreign fragments', async () => {
    const ws = all.hello!;
    const plain = 'j=' + Buffer.from(JSON.stringify(ws)).toString('base64url');
    expect(await decodeWorkspace(plain)).toEqual(ws);
    const good = await encodeWorkspace(ws);
    for (const bad of ['', '#', '#x=abc', '#z=', '#z=' + good.slice(2, 40), '#j=' + Buffer.from('{"files":null}').toString('base64url'), '#j=!!!']) {
      expect(await decodeWorkspace(bad), bad).toBeNull();
    }
  });
});
