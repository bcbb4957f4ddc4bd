// The ids the views and their commands are contributed under in package.json
// (`contributes.views`, `contributes.commands`); a test checks the manifest declares them.

export const VIEW_CONTAINER = 'xenolab';

export const VIEW_IDS = { domains: 'xenolab.domains', eventChannels: 'xenolab.eventChannels', grantTables: 'xenolab.grantTables' } as const;

export const COMMANDS = {
  refresh: 'xenolab.views.refresh',
  pause: 'xenolab.domain.pause',
  unpause: 'xenolab.domain.unpause',
  destroy: 'xenolab.domain.destroy',
  consoleInput: 'xenolab.domain.consoleInput',
  showPageTables: 'xenolab.showPageTables',
  showMemory: 'xenolab.showMemory',
  showFrameMap: 'xenolab.showFrameMap',
  showRings: 'xenolab.showRings',
  showHypercallProfile: 'xenolab.showHypercallProfile',
} as const;

/** The webview panels' view types (what VS Code restores them by). */
export const PANEL_VIEW_TYPES = {
  pageTables: 'xenolab.pageTables',
  memory: 'xenolab.memory',
  frameMap: 'xenolab.frameMap',
  rings: 'xenolab.rings',
  profile: 'xenolab.profile',
} as const;
