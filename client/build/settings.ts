// The extension's settings (package.json `contributes.configuration`), generated: one
// setting per lint rule of the language server (server/src/analysis/rules.ts, with its
// default severity), and the simulator's launch defaults (debugger/src/launch.ts). The
// server reads `xenolab.rules` through workspace/configuration; VS Code gathers the
// dotted keys `xenolab.rules.CODE` into that object.

import { xenConstant } from '../../isa/src/index.js';
import { LAUNCH_DEFAULTS } from '../../debugger/src/launch.js';
import { RULES } from '../../server/src/analysis/rules.js';

export type JsonSchema = {
  type?: string | string[];
  enum?: readonly (string | number | boolean)[];
  enumDescriptions?: string[];
  default?: unknown;
  description?: string;
  markdownDescription?: string;
  minimum?: number;
  maximum?: number;
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  order?: number;
  scope?: string;
};

export const RULE_SETTING_PREFIX = 'xenolab.rules.';
export const SEVERITY_SETTINGS = ['error', 'warning', 'info', 'hint', 'off'] as const;

export const MAX_VCPUS = xenConstant('XEN_LEGACY_MAX_VCPUS')!.value;

/** The launch attributes a setting can default (what the configuration provider fills in). */
export const SIMULATOR_SETTINGS: Record<string, JsonSchema> = {
  'xenolab.simulator.memoryKiB': { type: 'integer', default: LAUNCH_DEFAULTS.memoryKiB, minimum: 1024, description: 'Memory of a domain launched from a kernel file (KiB). An xl.cfg file says its own (`memory`).' },
  'xenolab.simulator.vcpus': { type: 'integer', default: LAUNCH_DEFAULTS.vcpus, minimum: 1, maximum: MAX_VCPUS, description: 'vCPUs of a domain launched from a kernel file. An xl.cfg file says its own (`vcpus`).' },
  'xenolab.simulator.maxCycles': { type: ['integer', 'null'], default: null, minimum: 1, description: 'Stop the machine after this many cycles of machine time (1 cycle = 1 ns); empty for no limit.' },
  'xenolab.simulator.snapshotSpacing': { type: 'integer', default: LAUNCH_DEFAULTS.snapshotSpacing, minimum: 1000, description: 'Cycles of machine time between snapshots for stepping back: more memory against faster reverse steps.' },
  'xenolab.simulator.schedulerLocking': {
    type: 'string', enum: ['step', 'off'], default: LAUNCH_DEFAULTS.schedulerLocking,
    enumDescriptions: ['Stepping runs only the stepped vCPU; the others stay paused.', 'Every vCPU runs while one steps.'],
    description: 'Which vCPUs run while one is stepped.',
  },
  'xenolab.simulator.stopOnEntry': { type: 'boolean', default: false, description: 'Stop at the first instruction of the first domain when a launch does not say.' },
  'xenolab.simulator.includeDirs': { type: 'array', items: { type: 'string' }, default: [], description: 'Directories searched by %include in guest sources (relative to the workspace folder).' },
  'xenolab.simulator.debugXen': {
    type: 'boolean', default: false,
    description: "Behave as a debug build of Xen: a hypercall leaves 0xDEADF00D in the argument registers it took (Xen's ABI says they are clobbered; release builds keep them).",
  },
};

/** The rest of the extension's settings. */
export const EDITOR_SETTINGS: Record<string, JsonSchema> = {
  'xenolab.associateAsm': {
    type: 'boolean', default: false,
    markdownDescription: 'Open `.asm` files as xenolab guest sources too (adds `"*.asm": "xasm"` to `files.associations` where this setting is set; turning it off removes that entry).',
  },
  'xenolab.lastRun.codeLens': { type: 'boolean', default: true, description: 'Show above each line that made hypercalls how many it made in the last debug run.' },
  'xenolab.trace.server': { type: 'string', enum: ['off', 'messages', 'verbose'], default: 'off', description: 'Log the messages between VS Code and the xenolab language server (Output: xenolab).', scope: 'window' },
};

export function ruleSettings(): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  for (const r of RULES) {
    const locked = r.code === 'asm' ? ' Its errors stay errors; this changes its warnings.' : '';
    out[RULE_SETTING_PREFIX + r.code] = {
      type: 'string',
      enum: SEVERITY_SETTINGS,
      default: r.severity,
      markdownDescription: `\`${r.code}\`: ${r.summary}${locked} A line can silence it with \`; xenolab-ignore: ${r.code}\`.`,
    };
  }
  return out;
}

/** package.json's `contributes.configuration`: one section per group, in the order the Settings editor shows them. */
export function configurationContribution(): { title: string; order: number; properties: Record<string, JsonSchema> }[] {
  return [
    { title: 'Lint rules', order: 1, properties: ruleSettings() },
    { title: 'Simulator', order: 2, properties: SIMULATOR_SETTINGS },
    { title: 'Editor', order: 3, properties: EDITOR_SETTINGS },
  ];
}
