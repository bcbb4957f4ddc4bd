// The `xenolab` debug type as package.json contributes it: the launch attributes' JSON
// schema (typed against the adapter's XenLaunchArguments, so an attribute added there
// without a schema here fails to compile), configuration snippets and the initial
// configurations. Attributes a setting can default share that setting's schema.

import type { XenLaunchArguments } from '../../debugger/src/session.js';
import { DEBUG_TYPE, initialConfigurations, SIMULATOR_KEYS, SIMULATOR_SECTION, type SimulatorKey } from '../src/debug/configuration.js';
import { SIMULATOR_SETTINGS, type JsonSchema } from './settings.js';

type LaunchAttribute = Exclude<keyof XenLaunchArguments, '__restart'>;

const files = (description: string): JsonSchema => ({ type: 'array', items: { type: 'string' }, default: [], description });

/** Every launch attribute the adapter reads, with its schema. */
export function launchAttributes(): { [K in LaunchAttribute]-?: JsonSchema } {
  const simulator = Object.fromEntries(SIMULATOR_KEYS.map((k) => [k, withoutSettingWords(SIMULATOR_SETTINGS[`${SIMULATOR_SECTION}.${k}`])])) as Record<SimulatorKey, JsonSchema>;
  return {
    program: {
      type: ['string', 'array'], items: { type: 'string' }, default: '${file}',
      description: 'The guest: a source file (.xasm, assembled on the fly), an ELF file or an xl.cfg file, or a list of them (one domain each).',
    },
    args: { type: ['string', 'array'], items: { type: 'string' }, default: '', description: 'The guest\'s command line (start_info.cmd_line) for domains given as kernels.' },
    disks: files('Disk images for domains given as kernels, as xl.cfg writes them (`disk.img,raw,xvda,rw`), relative to the kernel.'),
    noDebug: { type: 'boolean', default: false, description: 'Run without stopping: breakpoints and exception filters are not heeded.' },
    ...simulator,
  };
}

/** A setting's schema read as a launch attribute's (without the setting's own default of null). */
function withoutSettingWords(s: JsonSchema): JsonSchema {
  const { scope: _scope, order: _order, ...rest } = s;
  return rest.default === null ? { ...rest, type: (rest.type as string[]).filter((t) => t !== 'null'), default: undefined } : rest;
}

export interface ConfigurationSnippet {
  label: string;
  description: string;
  body: Record<string, unknown>;
}

export function configurationSnippets(): ConfigurationSnippet[] {
  return [
    {
      label: 'xenolab: Run a guest source',
      description: 'Assemble a .xasm guest kernel and boot it as a Xen PV domain on the simulated Xen.',
      body: { type: DEBUG_TYPE, request: 'launch', name: 'Run ${1:guest}', program: '^"\\${workspaceFolder}/${2:guest.xasm}"', stopOnEntry: true },
    },
    {
      label: 'xenolab: Run xl.cfg domains',
      description: 'Boot one domain per xl.cfg file on one simulated machine (dom0\'s backends built in).',
      body: { type: DEBUG_TYPE, request: 'launch', name: 'Run ${1:domains}', program: ['^"\\${workspaceFolder}/${2:ping.cfg}"', '^"\\${workspaceFolder}/${3:pong.cfg}"'] },
    },
    {
      label: 'xenolab: Run a guest with a disk',
      description: 'A guest kernel with a disk image on dom0\'s block backend (blkfront/blkback).',
      body: { type: DEBUG_TYPE, request: 'launch', name: 'Run ${1:guest} with a disk', program: '^"\\${workspaceFolder}/${2:guest.xasm}"', disks: ['${3:disk.img},raw,xvda,rw'] },
    },
  ];
}

/** package.json's `contributes.debuggers`. */
export function debuggersContribution(): unknown[] {
  const attributes = launchAttributes();
  return [{
    type: DEBUG_TYPE,
    label: 'xenolab (simulated Xen)',
    languages: ['xasm'],
    configurationAttributes: { launch: { required: ['program'], properties: attributes } },
    initialConfigurations: initialConfigurations(),
    configurationSnippets: configurationSnippets(),
  }];
}
