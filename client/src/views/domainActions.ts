// The Domains view's actions on a domain, as dom0's toolstack would do them (xl pause,
// unpause, destroy) plus typing into its console; each is a custom request, and the views
// refresh after it.

import * as vscode from 'vscode';
import { XenRequest } from '../../../protocol/src/index.js';
import { activeXenSession, xenRequest } from './debugSession.js';
import { domainOfNode } from './models/domains.js';
import type { TreeNode } from './models/tree.js';

/** The domain a command is for: the tree node it was invoked on, else one the user picks. */
export async function pickDomain(session: vscode.DebugSession, node: TreeNode | undefined, placeHolder: string): Promise<number | undefined> {
  const fromNode = node ? domainOfNode(node) : null;
  if (fromNode !== null) return fromNode;
  const { domains } = await xenRequest(session, XenRequest.domains, {});
  const picked = await vscode.window.showQuickPick(domains.map((d) => ({ label: `dom${d.id} (${d.name})`, description: d.state, id: d.id })), { placeHolder });
  return picked?.id;
}

export type DomainAction = 'pause' | 'unpause' | 'destroy' | 'consoleInput';

/** Runs `action` on a domain; resolves whether something was done (so the views refresh). */
export async function runDomainAction(action: DomainAction, node: TreeNode | undefined): Promise<boolean> {
  const session = activeXenSession();
  if (!session) {
    void vscode.window.showInformationMessage('No xenolab debug session is active.');
    return false;
  }
  try {
    const domain = await pickDomain(session, node, `Domain to ${action === 'consoleInput' ? 'type into' : action}`);
    if (domain === undefined) return false;
    switch (action) {
      case 'pause': await xenRequest(session, XenRequest.pause, { domain }); break;
      case 'unpause': await xenRequest(session, XenRequest.unpause, { domain }); break;
      case 'destroy': {
        const yes = 'Destroy';
        const answer = await vscode.window.showWarningMessage(`Destroy dom${domain}? Its frames go back to the machine (stepping back undoes it).`, { modal: true }, yes);
        if (answer !== yes) return false;
        await xenRequest(session, XenRequest.destroy, { domain });
        break;
      }
      case 'consoleInput': {
        const text = await vscode.window.showInputBox({ prompt: `Console input for dom${domain} (a newline is added)`, placeHolder: 'text the guest reads from its console ring' });
        if (text === undefined) return false;
        await xenRequest(session, XenRequest.consoleInput, { domain, text: `${text}\n` });
        break;
      }
    }
    return true;
  } catch (e) {
    void vscode.window.showErrorMessage(e instanceof Error ? e.message : String(e));
    return false;
  }
}
