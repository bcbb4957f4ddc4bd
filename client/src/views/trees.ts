// What each tree view asks the adapter at a stop, and how it becomes nodes.

import type * as vscode from 'vscode';
import { XenRequest, type DomainsBody } from '../../../protocol/src/index.js';
import { xenRequest } from './debugSession.js';
import { domainsTree } from './models/domains.js';
import { eventChannelsNode } from './models/eventChannels.js';
import { grantTablesNode } from './models/grantTables.js';
import { StopHistory } from './models/history.js';
import type { TreeNode } from './models/tree.js';
import type { TreeLoader } from './tree.js';

/** Domains: the counters grow from the previous stop's body. */
export function domainsLoader(): TreeLoader {
  const bodies = new StopHistory<DomainsBody>();
  return async (session, stop) => {
    const now = await xenRequest(session, XenRequest.domains, {});
    return domainsTree(now, bodies.record(stop, now));
  };
}

/** A node per domain from one request per domain (the panels ask for one domain at a time). */
function perDomain(make: (session: vscode.DebugSession, id: number, name: string) => Promise<TreeNode>): TreeLoader {
  return async (session) => {
    const { domains } = await xenRequest(session, XenRequest.domains, {});
    return Promise.all(domains.map((d) => make(session, d.id, `dom${d.id} (${d.name})`)));
  };
}

export const eventChannelsLoader = (): TreeLoader =>
  perDomain(async (session, domain, name) => eventChannelsNode(name, await xenRequest(session, XenRequest.eventChannels, { domain })));

export const grantTablesLoader = (): TreeLoader =>
  perDomain(async (session, domain, name) => grantTablesNode(name, await xenRequest(session, XenRequest.grantTables, { domain })));
