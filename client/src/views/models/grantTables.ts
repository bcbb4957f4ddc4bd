// The Grant Tables tree: per domain, the active entries of its table (who may map which
// frame, who has it pinned and mapped) and the grants of others it maps.

import type { GrantEntryInfo, GrantMappingInfo, GrantTablesBody } from '../../../../protocol/src/index.js';
import { hex, plural, shortHex } from './format.js';
import type { TreeNode } from './tree.js';

function entryNode(domain: number, e: GrantEntryInfo): TreeNode {
  const by = e.mappedBy.length ? ` · mapped by ${e.mappedBy.map((d) => `dom${d}`).join(', ')}` : '';
  const readonly = e.flagNames.includes('GTF_readonly');
  return {
    id: `dom${domain}/ref${e.ref}`, label: `ref ${e.ref}`,
    description: `→ dom${e.domid} · frame ${shortHex(e.frame)}${readonly ? ' · read-only' : ''} · pins ${e.readers}r/${e.writers}w${by}`,
    tooltip: `${e.flagNames.join(' | ')} (flags ${hex(e.flags, 4)})`,
    icon: e.readers + e.writers > 0 ? 'lock' : 'unlock',
  };
}

function mappingNode(domain: number, m: GrantMappingInfo): TreeNode {
  const where = m.hostAddr !== undefined ? ` at ${hex(m.hostAddr)}` : '';
  return {
    id: `dom${domain}/handle${m.handle}`, label: `handle ${m.handle}`,
    description: `dom${m.granter} ref ${m.ref} · frame ${shortHex(m.frame)}${where}${m.readonly ? ' · read-only' : ''}${m.device ? ' · device' : ''}`,
    tooltip: m.pte !== undefined ? `PTE at machine ${hex(m.pte)}` : undefined,
    icon: 'link',
  };
}

/** One domain's grant table, under a node named after it. */
export function grantTablesNode(name: string, body: GrantTablesBody): TreeNode {
  const id = `dom${body.domain}`;
  return {
    id, label: name, icon: 'vm', expanded: true,
    description: `${plural(body.frames.length, 'frame')} · ${plural(body.entries.length, 'active entry', 'active entries')} of ${body.capacity}`,
    tooltip: body.frames.length ? `table frames: ${body.frames.map(shortHex).join(', ')}` : 'no table set up (GNTTABOP_setup_table)',
    children: [
      { id: `${id}/entries`, label: 'Grants', description: plural(body.entries.length, 'entry', 'entries'), icon: 'key', expanded: true, children: body.entries.map((e) => entryNode(body.domain, e)) },
      { id: `${id}/mappings`, label: 'Mapped from others', description: plural(body.mappings.length, 'mapping'), icon: 'references', expanded: true, children: body.mappings.map((m) => mappingNode(body.domain, m)) },
    ],
  };
}
