// The committed snippets, expanded as the editor expands them with every placeholder left
// at its default: the guest skeleton assembles and boots on the simulated Xen (prints its
// line, powers off), and every other snippet assembles inside it without a finding of the
// language server's rules at error severity.

import { describe, expect, it } from 'vitest';
import { assemble, withBuiltins } from '../../asm/src/index.js';
import { guestImage } from '../../debugger/src/launch.js';
import { bootMachine } from '../../hypervisor/src/xen/boot.js';
import { analyze } from '../../server/src/analysis/index.js';
import { xasmSnippets } from '../build/snippets.js';

/** A snippet body as inserted with its defaults: `${1:x}` → x, `${1|a,b|}` → a, `$1` → what 1 became, `\$` → `$`. */
function expand(body: readonly string[]): { text: string; cursor: number } {
  const values = new Map<string, string>();
  let text = body.join('\n')
    .replace(/\$\{(\d+):([^}]*)\}/g, (_, n: string, v: string) => (values.set(n, v), v))
    .replace(/\$\{(\d+)\|([^,|]*)[^}]*\|\}/g, (_, n: string, v: string) => (values.set(n, v), v));
  const cursor = text.indexOf('$0');
  text = text.replace('$0', '').replace(/(?<!\\)\$(\d+)/g, (_, n: string) => values.get(n) ?? '').replace(/\\\$/g, '$');
  return { text, cursor };
}

const snippets = xasmSnippets();
const skeleton = expand(snippets['PV guest kernel'].body);
const path = '/snippets/guest.xasm';

/** Names the other snippets expect the guest to have. */
const SUPPORT = [
  'hypercall_failed:', 'fail:', 'general_protection:', '    jmp $',
  'section .data', 'COUNT equ 4', 'message: db "hi", 10', 'message_len equ $ - message', 'done: dd 0',
  'section .bss', 'requests: resb COUNT * mmu_update_size',
].join('\n');

function assembleGuest(text: string) {
  const r = assemble({ path, text, provider: withBuiltins({ read: () => null }) });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.image;
}

describe('snippets', () => {
  it('the guest skeleton boots, prints its line and powers off', () => {
    const machine = bootMachine([{ image: guestImage(assembleGuest(skeleton.text)), name: 'snippet', memoryKiB: 8192 }]);
    if ('error' in machine) throw new Error(machine.error);
    let console = '';
    machine.domains[0].onConsole = (t) => (console += t);
    expect(machine.xen.runAll(50_000_000).kind).toBe('ended');
    expect(console).toContain('Hello from a PV guest');
    expect(machine.domains[0].state).toMatchObject({ kind: 'shutdown' });
  });

  for (const [name, snippet] of Object.entries(snippets)) {
    if (name === 'PV guest kernel') continue;
    it(`"${name}" (${snippet.prefix}) assembles in a guest, with no error from the rules`, () => {
      const body = expand(snippet.body).text;
      const text = `${skeleton.text.slice(0, skeleton.cursor)}${body}\n${skeleton.text.slice(skeleton.cursor)}\n${SUPPORT}\n`;
      assembleGuest(text);
      const errors = analyze({ path, text, provider: withBuiltins({ read: () => null }) }).findings.filter((f) => f.severity === 'error');
      expect(errors.map((f) => `${f.code}: ${f.message}`)).toEqual([]);
    });
  }
});
