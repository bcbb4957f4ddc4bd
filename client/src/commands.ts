// The extension's own commands: a new guest copied from a seed, and the guest in the
// editor run with or without the debugger (the editor title's run buttons).

import * as vscode from 'vscode';
import { activeFile } from './debug/adapter.js';
import { configurationFor, isRunnable } from './debug/configuration.js';
import { seedLaunchConfiguration, seedsFrom, type Seed, type SeedEntry } from './seeds.js';

export const COMMAND_IDS = {
  newGuestFromSeed: 'xenolab.newGuestFromSeed',
  debugGuest: 'xenolab.debugGuest',
  runGuest: 'xenolab.runGuest',
} as const;

export function registerCommands(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand(COMMAND_IDS.newGuestFromSeed, () => newGuestFromSeed(vscode.Uri.joinPath(context.extensionUri, 'seeds'))),
    vscode.commands.registerCommand(COMMAND_IDS.debugGuest, () => startGuest(false)),
    vscode.commands.registerCommand(COMMAND_IDS.runGuest, () => startGuest(true)),
  );
}

async function startGuest(noDebug: boolean): Promise<void> {
  const file = activeFile();
  if (!isRunnable(file)) {
    void vscode.window.showErrorMessage('Open a guest source (.xasm) or an xl.cfg file to run it.');
    return;
  }
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(file.path));
  await vscode.debug.startDebugging(folder, configurationFor(file), { noDebug });
}

async function newGuestFromSeed(seedsDir: vscode.Uri): Promise<void> {
  const seeds = seedsFrom(await listSeeds(seedsDir));
  const pick = await vscode.window.showQuickPick(seeds.map((s) => ({ label: s.name, detail: s.description, seed: s })), {
    title: 'New Guest from Seed', placeHolder: 'A seed guest to copy into the workspace',
  });
  if (!pick) return;
  const target = await targetFolder();
  if (!target) return;
  const copied = await copySeed(seedsDir, pick.seed, target);
  const folder = vscode.workspace.getWorkspaceFolder(target);
  const launch = seedLaunchConfiguration(pick.seed, copied.dir.fsPath);
  if (launch && folder) {
    // Domains that need their xl.cfg files (command lines, disks) run together from launch.json.
    const config = vscode.workspace.getConfiguration('launch', folder.uri);
    await config.update('configurations', [...(config.get<unknown[]>('configurations') ?? []), launch], vscode.ConfigurationTarget.WorkspaceFolder);
  }
  await vscode.window.showTextDocument(copied.main);
}

/** seeds/ and one level of folders, with the text of every kernel source. */
async function listSeeds(dir: vscode.Uri): Promise<SeedEntry[]> {
  const out: SeedEntry[] = [];
  const read = async (uri: vscode.Uri) => new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  for (const [name, type] of await vscode.workspace.fs.readDirectory(dir)) {
    const uri = vscode.Uri.joinPath(dir, name);
    if (type === vscode.FileType.File) out.push({ path: name, text: name.endsWith('.xasm') ? await read(uri) : undefined });
    else if (type === vscode.FileType.Directory) {
      for (const [inner, t] of await vscode.workspace.fs.readDirectory(uri)) {
        if (t === vscode.FileType.File) out.push({ path: `${name}/${inner}`, text: inner.endsWith('.xasm') ? await read(vscode.Uri.joinPath(uri, inner)) : undefined });
      }
    }
  }
  return out;
}

/** The workspace's first folder, else one the user picks. */
async function targetFolder(): Promise<vscode.Uri | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length === 1) return folders[0].uri;
  if (folders.length > 1) return (await vscode.window.showWorkspaceFolderPick({ placeHolder: 'The folder to put the guest in' }))?.uri;
  return (await vscode.window.showOpenDialog({ canSelectFiles: false, canSelectFolders: true, openLabel: 'Put the guest here' }))?.[0];
}

/** Copies a seed next to what is there, never over it: `hello.xasm`, else `hello-2.xasm`, ... (a folder seed likewise). */
async function copySeed(seedsDir: vscode.Uri, seed: Seed, target: vscode.Uri): Promise<{ dir: vscode.Uri; main: vscode.Uri }> {
  const folderSeed = seed.main.includes('/');
  const exists = async (uri: vscode.Uri) => vscode.workspace.fs.stat(uri).then(() => true, () => false);
  let name = seed.name;
  for (let n = 2; await exists(vscode.Uri.joinPath(target, folderSeed ? name : `${name}.xasm`)); n++) name = `${seed.name}-${n}`;
  const dir = folderSeed ? vscode.Uri.joinPath(target, name) : target;
  for (const file of seed.files) {
    const relative = folderSeed ? file.slice(seed.name.length + 1) : `${name}.xasm`;
    await vscode.workspace.fs.copy(vscode.Uri.joinPath(seedsDir, file), vscode.Uri.joinPath(dir, relative));
  }
  const main = vscode.Uri.joinPath(dir, folderSeed ? seed.main.slice(seed.name.length + 1) : `${name}.xasm`);
  return { dir, main };
}
