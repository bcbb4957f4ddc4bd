// The seed guests "New Guest from Seed" offers, from the extension's seeds/ folder: a
// kernel on its own (hello.xasm) or a folder of domains (xl.cfg files with their kernel and
// disks), described by the first sentence of the kernel's header comment. Transcripts
// (`.console`) stay behind: they are the tests' expectations, not part of a guest.

export interface SeedEntry {
  /** Path under seeds/, '/'-separated. */
  path: string;
  /** The text of .xasm files (for their description). */
  text?: string;
}

export interface Seed {
  name: string;
  description: string;
  /** Paths under seeds/ to copy. */
  files: string[];
  /** The kernel source to open. */
  main: string;
  /** The xl.cfg files of a folder seed: what a launch configuration runs together. */
  configs: string[];
}

const isCopied = (path: string) => !path.endsWith('.console');

/** Seeds from a listing of seeds/ (files at the top, and in one level of folders). */
export function seedsFrom(entries: readonly SeedEntry[]): Seed[] {
  const out: Seed[] = [];
  const folders = new Map<string, SeedEntry[]>();
  for (const e of entries) {
    const slash = e.path.indexOf('/');
    if (slash < 0) {
      if (e.path.endsWith('.xasm')) out.push({ name: e.path.replace(/\.xasm$/, ''), description: describe(e.text ?? ''), files: [e.path], main: e.path, configs: [] });
    } else {
      const folder = e.path.slice(0, slash);
      folders.set(folder, [...(folders.get(folder) ?? []), e]);
    }
  }
  for (const [name, files] of folders) {
    const kernel = files.find((f) => f.path.endsWith('.xasm'));
    if (kernel === undefined) continue;
    out.push({
      name, description: describe(kernel.text ?? ''), main: kernel.path,
      files: files.map((f) => f.path).filter(isCopied).sort(),
      configs: files.map((f) => f.path).filter((p) => p.endsWith('.cfg')).sort(),
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** The first sentence of a source's header comment, without the `name.xasm:` it starts with. */
export function describe(text: string): string {
  const comment: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*;\s?(.*)$/.exec(line);
    if (m === null) break;
    comment.push(m[1].trim());
  }
  const joined = comment.join(' ').replace(/^[\w.-]+\.xasm:\s*/, '');
  const sentence = /^.*?[.!?](?=\s|$)/.exec(joined)?.[0] ?? joined;
  return sentence.length > 140 ? `${sentence.slice(0, 139)}…` : sentence;
}

/** A launch configuration for a folder seed copied to `dir` (absolute): its domains booted together. */
export function seedLaunchConfiguration(seed: Seed, dir: string): Record<string, unknown> | null {
  if (seed.configs.length === 0) return null;
  const local = (p: string) => `${dir}/${p.slice(seed.name.length + 1)}`;
  const n = seed.configs.length;
  return { type: 'xenolab', request: 'launch', name: `Run ${seed.name} (${n} ${n === 1 ? 'domain' : 'domains'})`, program: seed.configs.map(local) };
}
