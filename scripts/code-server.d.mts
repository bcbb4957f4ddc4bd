// Types of scripts/code-server.mjs, for the TypeScript tests that import it.

export declare const NODE_VERSION: string;
export declare const CODE_SERVER_VERSION: string;
export declare const SYSTEM_PACKAGES: string[];
export declare const OFFLINE_SETTINGS: Record<string, unknown>;

export declare function cacheDir(): string;
export declare function nodeHome(): string;
export declare function nodeBinary(): string;
export declare function codeServerHome(): string;

export interface InstallResult {
  nodeInstalled: boolean;
  codeServerInstalled: boolean;
  /** Wall time of the call, installing or not. */
  ms: number;
  home: string;
  node: string;
}
export declare function ensureCodeServer(): Promise<InstallResult>;

export interface StartOptions {
  /** The folder VS Code opens. */
  workspace: string;
  /** .vsix files installed (with --install-extension) before the server starts. */
  vsix?: string | string[];
  /** User settings on top of OFFLINE_SETTINGS. */
  settings?: Record<string, unknown>;
  /** 0 (default): the kernel picks a free port. */
  port?: number;
  /** Keep Workspace Trust on (default off: --disable-workspace-trust). */
  workspaceTrust?: boolean;
  /** How long to wait for the server to answer HTTP (default 90 s). */
  timeoutMs?: number;
  /** Use this folder for user data, extensions, config and logs (default: a new temp folder). */
  runDir?: string;
  /** Leave runDir on disk after stop() (default: removed). */
  keepRunDir?: boolean;
}

export interface CodeServer {
  /** http://127.0.0.1:PORT/ */
  url: string;
  port: number;
  pid: number;
  runDir: string;
  userDataDir: string;
  extensionsDir: string;
  /** From the call to the workbench page answering, including extension installs. */
  startMs: number;
  /** code-server's output so far (also in runDir/code-server.log). */
  logs(): string;
  /** Ends code-server and every process below it; idempotent. */
  stop(): Promise<void>;
}
export declare function startCodeServer(options: StartOptions): Promise<CodeServer>;
