// One debug session of the playground: a fresh adapter worker per launch (a fresh machine),
// the launch handshake, breakpoints, run control, and at every stop the stack and the
// registers of the stopped vCPU. Views listen; they do not talk DAP.

import type { DebugProtocol } from '@vscode/debugprotocol';
import { XenEvent, type ConsoleEventBody } from '../../../protocol/src/index.js';
import { absolutePath, programOf, type Workspace } from '../workspace.js';
import { DapClient } from './client.js';

export type RunState = 'idle' | 'running' | 'stopped' | 'ended';

export interface Stop {
  /** Counts stops within the session (the views compare a stop with the one before). */
  index: number;
  reason: string;
  threadId: number;
  frames: DebugProtocol.StackFrame[];
  registers: DebugProtocol.Variable[];
}

export interface SessionListener {
  state(state: RunState, detail?: string): void;
  stopped(stop: Stop): void;
  console(text: string): void;
}

/** Run-control requests with their DAP command names. */
export const STEPS = {
  continue: 'continue', next: 'next', stepIn: 'stepIn', stepOut: 'stepOut', stepBack: 'stepBack', reverseContinue: 'reverseContinue', pause: 'pause',
} as const;
export type StepCommand = keyof typeof STEPS;

export class DebugSession {
  private client: DapClient | null = null;
  private stops = 0;
  private threadId = 1;
  state: RunState = 'idle';

  constructor(private readonly workerUrl: string, private readonly listener: SessionListener) {}

  /** The adapter, while a session runs (the Xen views ask it for their data). */
  get adapter(): DapClient | null {
    return this.state === 'idle' || this.state === 'ended' ? null : this.client;
  }

  async launch(ws: Workspace, active: string | undefined, breakpoints: Map<string, number[]>): Promise<void> {
    this.end();
    const client = (this.client = new DapClient(new Worker(this.workerUrl, { name: 'xenolab debug adapter' })));
    this.stops = 0;
    client.sendFiles(
      Object.fromEntries(Object.entries(ws.files).map(([p, t]) => [absolutePath(p), t])),
      Object.fromEntries(Object.entries(ws.binary).map(([p, b]) => [absolutePath(p), b])),
    );
    client.on<ConsoleEventBody>(XenEvent.console, (b) => this.listener.console(b.text));
    client.on<DebugProtocol.OutputEvent['body']>('output', (b) => { if (b.category !== 'telemetry') this.listener.console(b.output); });
    client.on<DebugProtocol.StoppedEvent['body']>('stopped', (b) => void this.stopped(client, b));
    client.on('continued', () => this.setState('running'));
    client.on('terminated', () => this.setState('ended', 'the machine stopped'));
    const configured = new Promise<void>((resolve) => client.on('initialized', () => resolve()));
    await client.request('initialize', { adapterID: 'xenolab', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    this.setState('running');
    const launched = client.request('launch', { program: programOf(ws, active), stopOnEntry: false });
    await configured;
    for (const [path, lines] of breakpoints) await this.sendBreakpoints(path, lines);
    await client.request('configurationDone');
    await launched.catch((e: Error) => {
      this.setState('ended', e.message);
      throw e;
    });
  }

  /** The breakpoints of one file (relative path), sent to a running session. */
  async sendBreakpoints(rel: string, lines: number[]): Promise<void> {
    await this.adapter?.request('setBreakpoints', { source: { path: absolutePath(rel) }, breakpoints: lines.map((line) => ({ line })) });
  }

  async step(command: StepCommand): Promise<void> {
    const client = this.adapter;
    if (!client) return;
    if (command !== 'pause') this.setState('running');
    await client.request(STEPS[command], { threadId: this.threadId });
  }

  end(): void {
    if (this.client) {
      this.client.dispose();
      this.client = null;
      this.setState('ended', 'stopped');
    }
  }

  private async stopped(client: DapClient, b: DebugProtocol.StoppedEvent['body']): Promise<void> {
    this.threadId = b.threadId ?? this.threadId;
    const { stackFrames } = await client.request<DebugProtocol.StackTraceResponse['body']>('stackTrace', { threadId: this.threadId, startFrame: 0, levels: 32 });
    const top = stackFrames[0];
    const { scopes } = top ? await client.request<DebugProtocol.ScopesResponse['body']>('scopes', { frameId: top.id }) : { scopes: [] };
    const regs = scopes.find((s) => s.name === 'Registers') ?? scopes[0];
    const { variables } = regs ? await client.request<DebugProtocol.VariablesResponse['body']>('variables', { variablesReference: regs.variablesReference }) : { variables: [] };
    if (client !== this.client) return;
    this.setState('stopped', b.description ?? b.reason);
    this.listener.stopped({ index: ++this.stops, reason: b.reason, threadId: this.threadId, frames: stackFrames, registers: variables });
  }

  private setState(state: RunState, detail?: string): void {
    this.state = state;
    this.listener.state(state, detail);
  }
}
