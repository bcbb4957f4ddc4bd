// The debug configuration provider's logic: F5 with no launch.json runs the guest in the
// editor, settings fill what a configuration leaves out (never what it says), and paths
// become absolute for the adapter.

import { describe, expect, it } from 'vitest';
import { absolutePaths, configurationFor, initialConfigurations, isRunnable, resolveLaunch, type LaunchConfiguration } from '../src/debug/configuration.js';

const hello = { path: '/ws/seeds/hello.xasm', languageId: 'xasm' };
const ok = (r: ReturnType<typeof resolveLaunch>): LaunchConfiguration => {
  if (!r.ok) throw new Error(r.message);
  return r.config;
};

describe('resolveLaunch', () => {
  it('runs the guest in the editor when there is no launch.json (an empty configuration)', () => {
    expect(ok(resolveLaunch({}, hello, {}))).toEqual({ type: 'xenolab', request: 'launch', name: 'Run hello.xasm', program: '/ws/seeds/hello.xasm' });
    expect(ok(resolveLaunch({ noDebug: true }, hello, {})).noDebug).toBe(true);
  });

  it('runs an xl.cfg file or a guest by its extension, whatever language the editor gave it', () => {
    expect(ok(resolveLaunch({}, { path: '/ws/ping.cfg', languageId: 'plaintext' }, {})).program).toBe('/ws/ping.cfg');
    expect(ok(resolveLaunch({}, { path: '/ws/k.asm', languageId: 'asm' }, {})).program).toBe('/ws/k.asm');
    expect(isRunnable({ path: '/ws/notes.md', languageId: 'markdown' })).toBe(false);
    expect(isRunnable(undefined)).toBe(false);
  });

  it('says what to do when there is nothing to run', () => {
    expect(resolveLaunch({}, undefined, {})).toEqual({ ok: false, message: expect.stringMatching(/Open a guest source/) });
    expect(resolveLaunch({}, { path: '/ws/README.md', languageId: 'markdown' }, {}).ok).toBe(false);
    expect(resolveLaunch({ type: 'xenolab', request: 'launch', name: 'x' }, undefined, {})).toEqual({ ok: false, message: expect.stringMatching(/no "program"/) });
    expect(resolveLaunch({ type: 'xenolab', request: 'attach', name: 'x', program: 'a.xasm' }, hello, {})).toEqual({ ok: false, message: expect.stringMatching(/"attach"/) });
  });

  it('takes the program from the editor for a configuration without one', () => {
    expect(ok(resolveLaunch({ type: 'xenolab', request: 'launch', name: 'mine', stopOnEntry: true }, hello, {}))).toEqual({
      type: 'xenolab', request: 'launch', name: 'mine', stopOnEntry: true, program: hello.path,
    });
  });

  it('fills simulator settings the configuration leaves out, and only those', () => {
    const settings = { memoryKiB: 8192, vcpus: 2, maxCycles: null, snapshotSpacing: 100_000, schedulerLocking: 'off', stopOnEntry: false, includeDirs: ['inc'] };
    const c = ok(resolveLaunch({ type: 'xenolab', request: 'launch', name: 'x', program: 'a.xasm', vcpus: 4, stopOnEntry: true }, undefined, settings));
    expect(c).toEqual({
      type: 'xenolab', request: 'launch', name: 'x', program: 'a.xasm',
      vcpus: 4, stopOnEntry: true, memoryKiB: 8192, snapshotSpacing: 100_000, schedulerLocking: 'off', includeDirs: ['inc'],
    });
    expect('maxCycles' in c).toBe(false);
  });
});

describe('absolutePaths', () => {
  it('resolves programs and include directories against the workspace folder, keeping absolute ones', () => {
    const c = { type: 'xenolab', request: 'launch', name: 'x', program: ['ping.cfg', '/abs/pong.cfg'], includeDirs: ['inc', '/usr/share/xen'] };
    expect(absolutePaths(c, '/ws')).toEqual({ ok: true, config: { ...c, program: ['/ws/ping.cfg', '/abs/pong.cfg'], includeDirs: ['/ws/inc', '/usr/share/xen'] } });
    expect(absolutePaths({ ...c, program: 'seeds/../hello.xasm' }, '/ws')).toMatchObject({ ok: true, config: { program: '/ws/hello.xasm' } });
  });

  it('refuses a program that is not a file name', () => {
    expect(absolutePaths({ type: 'xenolab', request: 'launch', name: 'x', program: [''] }, '/ws').ok).toBe(false);
    expect(absolutePaths({ type: 'xenolab', request: 'launch', name: 'x', program: 3 as never }, '/ws').ok).toBe(false);
  });
});

describe('initial configurations', () => {
  it('run the file in the editor, as F5 does', () => {
    const [first] = initialConfigurations();
    expect(first).toMatchObject({ type: 'xenolab', request: 'launch', program: '${file}' });
    expect(configurationFor(hello).type).toBe(first.type);
  });
});
