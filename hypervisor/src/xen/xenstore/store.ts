// The xenstore database as xenstored keeps it (docs/misc/xenstore.txt): a tree of nodes,
// each with a value and permissions, paths absolute or relative to a domain's home
// (/local/domain/<id>), transactions that commit or fail with EAGAIN when the store
// changed under them, and watches that fire on a change at or below their path. Errors
// are the errno names the wire protocol sends back. Dom0 (the toolstack and backends,
// built into the simulator) may do anything.

export type XsError = 'ENOENT' | 'EACCES' | 'EINVAL' | 'EEXIST' | 'EISDIR' | 'ENOSPC' | 'EAGAIN' | 'E2BIG' | 'EBUSY' | 'EQUOTA';

/** Access for one domain: n(one), r(ead), w(rite), b(oth). */
export type PermLetter = 'n' | 'r' | 'w' | 'b';

/** A node's permissions: the first entry is its owner (who may do anything) and the access of every domain not listed. */
export interface Perm {
  id: number;
  perm: PermLetter;
}

interface Node {
  value: Uint8Array;
  perms: Perm[];
  children: Map<string, Node>;
}

export const ABS_PATH_MAX = 3072;
export const REL_PATH_MAX = 2048;
/** Nodes a domain may own (xenstored's default quota). */
export const NODE_QUOTA = 1000;

/** A watch set by a connection: its path as given (absolute or relative) and token. */
export interface Watch {
  domain: number;
  path: string;
  token: string;
}

/** A fired watch: the connection, the path as the watcher names it, its token. */
export interface WatchEvent {
  domain: number;
  path: string;
  token: string;
}

const PATH_CHARS = /^[A-Za-z0-9\-/_@]*$/;

export function homePath(domain: number): string {
  return `/local/domain/${domain}`;
}

function clone(n: Node): Node {
  return { value: n.value, perms: n.perms.map((p) => ({ ...p })), children: new Map([...n.children].map(([k, c]) => [k, clone(c)])) };
}

interface Transaction {
  domain: number;
  root: Node;
  /** The store's generation when it started: any commit since makes it fail. */
  generation: number;
  /** Paths it changed (for its watches at commit). */
  changed: Set<string>;
}

export class XenStore {
  private root: Node = { value: new Uint8Array(0), perms: [{ id: 0, perm: 'n' }], children: new Map() };
  private generation = 0;
  private readonly transactions = new Map<number, Transaction>();
  private nextTransaction = 1;
  readonly watches: Watch[] = [];
  /** Watch events not yet delivered, in order. */
  readonly events: WatchEvent[] = [];
  /** Dom0's own watchers (its backends): absolute path and callback. */
  readonly dom0Watches: { path: string; changed: (path: string) => void }[] = [];
  /** Changes dom0's watchers have not been told about yet (absolute paths). */
  readonly dom0Events: { path: string; changed: (path: string) => void }[] = [];

  constructor() {
    for (const p of ['/local', '/local/domain', '/tool', '/vm']) this.writeAs(0, p, new Uint8Array(0), 0);
  }

  /** A path made absolute and checked; null when it is not a valid path. */
  canonical(domain: number, path: string): string | null {
    if (path === '' || !PATH_CHARS.test(path) || path.includes('//')) return null;
    if (path.startsWith('@')) return null; // special watch paths only
    const abs = path.startsWith('/') ? path : `${homePath(domain)}/${path}`;
    if (abs.length > 1 && abs.endsWith('/')) return null;
    if (abs.length > ABS_PATH_MAX || (!path.startsWith('/') && path.length > REL_PATH_MAX)) return null;
    return abs;
  }

  /** The tree a request sees: the store's, or its own transaction's (another domain's is ENOENT, as if it did not exist). */
  private rootOf(domain: number, tx: number): Node | XsError {
    if (tx === 0) return this.root;
    const t = this.transactions.get(tx);
    return t && t.domain === domain ? t.root : 'ENOENT';
  }

  private find(root: Node, abs: string): Node | null {
    let n: Node | undefined = root;
    for (const part of abs.split('/').filter(Boolean)) {
      n = n.children.get(part);
      if (!n) return null;
    }
    return n;
  }

  private access(n: Node, domain: number): PermLetter {
    if (domain === 0 || n.perms[0].id === domain) return 'b';
    return (n.perms.find((p, i) => i > 0 && p.id === domain) ?? n.perms[0]).perm;
  }

  private canRead(n: Node, domain: number): boolean {
    const a = this.access(n, domain);
    return a === 'r' || a === 'b';
  }

  private canWrite(n: Node, domain: number): boolean {
    const a = this.access(n, domain);
    return a === 'w' || a === 'b';
  }

  private owned(domain: number, n: Node = this.root): number {
    let c = n.perms[0].id === domain ? 1 : 0;
    for (const child of n.children.values()) c += this.owned(domain, child);
    return c;
  }

  read(domain: number, tx: number, path: string): Uint8Array | XsError {
    const n = this.readable(domain, tx, path);
    return typeof n === 'string' ? n : n.value;
  }

  directory(domain: number, tx: number, path: string): string[] | XsError {
    const n = this.readable(domain, tx, path);
    return typeof n === 'string' ? n : [...n.children.keys()];
  }

  getPerms(domain: number, tx: number, path: string): Perm[] | XsError {
    const n = this.readable(domain, tx, path);
    return typeof n === 'string' ? n : n.perms.map((p) => ({ ...p }));
  }

  /** The node at `path` in the transaction's view, if `domain` may read it. */
  private readable(domain: number, tx: number, path: string): Node | XsError {
    const root = this.rootOf(domain, tx);
    if (typeof root === 'string') return root;
    const abs = this.canonical(domain, path);
    if (abs === null) return 'EINVAL';
    const n = this.find(root, abs);
    if (!n) return 'ENOENT';
    return this.canRead(n, domain) ? n : 'EACCES';
  }

  /** Writes a node, creating it and missing parents (owned by the writer, with the parent's other permissions). */
  write(domain: number, tx: number, path: string, value: Uint8Array): XsError | null {
    const abs = this.canonical(domain, path);
    if (abs === null) return 'EINVAL';
    return this.writeAs(domain, abs, value, tx);
  }

  /** Creates a node with an empty value if it does not exist. */
  mkdir(domain: number, tx: number, path: string): XsError | null {
    const root = this.rootOf(domain, tx);
    if (typeof root === 'string') return root;
    const abs = this.canonical(domain, path);
    if (abs === null) return 'EINVAL';
    const n = this.find(root, abs);
    if (n) return this.canWrite(n, domain) ? null : 'EACCES';
    return this.writeAs(domain, abs, new Uint8Array(0), tx);
  }

  private writeAs(domain: number, abs: string, value: Uint8Array, tx: number): XsError | null {
    const root = this.rootOf(domain, tx);
    if (typeof root === 'string') return root;
    let n = root;
    const parts = abs.split('/').filter(Boolean);
    let created = 0;
    for (let i = 0; i < parts.length; i++) {
      let next = n.children.get(parts[i]);
      if (!next) {
        if (!this.canWrite(n, domain)) return 'EACCES';
        if (created === 0 && domain !== 0 && this.owned(domain) + (parts.length - i) > NODE_QUOTA) return 'EQUOTA';
        const inherited = n.perms.map((p) => ({ ...p }));
        inherited[0] = { id: domain === 0 ? inherited[0].id : domain, perm: inherited[0].perm };
        next = { value: new Uint8Array(0), perms: inherited, children: new Map() };
        n.children.set(parts[i], next);
        created++;
      }
      n = next;
    }
    if (created === 0 && !this.canWrite(n, domain)) return 'EACCES';
    n.value = value;
    this.changed(tx, abs);
    return null;
  }

  rm(domain: number, tx: number, path: string): XsError | null {
    const root = this.rootOf(domain, tx);
    if (typeof root === 'string') return root;
    const abs = this.canonical(domain, path);
    if (abs === null || abs === '/') return 'EINVAL';
    const parentPath = abs.slice(0, abs.lastIndexOf('/')) || '/';
    const parent = this.find(root, parentPath);
    const name = abs.slice(abs.lastIndexOf('/') + 1);
    const n = parent?.children.get(name);
    if (!n) return parent ? null : 'ENOENT'; // removing what is already gone is fine if its parent exists
    if (!this.canWrite(n, domain)) return 'EACCES';
    parent!.children.delete(name);
    this.changed(tx, abs);
    return null;
  }

  setPerms(domain: number, tx: number, path: string, perms: Perm[]): XsError | null {
    const root = this.rootOf(domain, tx);
    if (typeof root === 'string') return root;
    const abs = this.canonical(domain, path);
    if (abs === null || perms.length === 0) return 'EINVAL';
    const n = this.find(root, abs);
    if (!n) return 'ENOENT';
    // Only the owner (or dom0) may change them; a domain may not give a node away.
    if (domain !== 0 && (n.perms[0].id !== domain || perms[0].id !== domain)) return 'EACCES';
    n.perms = perms.map((p) => ({ ...p }));
    this.changed(tx, abs);
    return null;
  }

  watch(domain: number, path: string, token: string): XsError | null {
    const abs = path.startsWith('@') ? (/^@(introduceDomain|releaseDomain)$/.test(path) ? path : null) : this.canonical(domain, path);
    if (abs === null) return 'EINVAL';
    if (this.watches.some((w) => w.domain === domain && w.path === path && w.token === token)) return 'EEXIST';
    this.watches.push({ domain, path, token });
    // A new watch fires once at once, so that the watcher reads the current state.
    this.events.push({ domain, path, token });
    return null;
  }

  unwatch(domain: number, path: string, token: string): XsError | null {
    const i = this.watches.findIndex((w) => w.domain === domain && w.path === path && w.token === token);
    if (i < 0) return 'ENOENT';
    this.watches.splice(i, 1);
    return null;
  }

  transactionStart(domain: number): number {
    const id = this.nextTransaction++;
    this.transactions.set(id, { domain, root: clone(this.root), generation: this.generation, changed: new Set() });
    return id;
  }

  /** Commits (or aborts) a transaction: EAGAIN when the store changed since it started. */
  transactionEnd(domain: number, tx: number, commit: boolean): XsError | null {
    const t = this.transactions.get(tx);
    if (!t || t.domain !== domain) return 'ENOENT';
    this.transactions.delete(tx);
    if (!commit) return null;
    if (t.generation !== this.generation) return 'EAGAIN';
    this.root = t.root;
    for (const p of t.changed) this.changed(0, p);
    return null;
  }

  /** Ends what a domain left behind (its transactions and watches). */
  release(domain: number): void {
    for (const [id, t] of this.transactions) if (t.domain === domain) this.transactions.delete(id);
    for (let i = this.watches.length - 1; i >= 0; i--) if (this.watches[i].domain === domain) this.watches.splice(i, 1);
  }

  /** A change at `abs`: in a transaction, remembered for its commit; else the store's generation moves and watches fire. */
  private changed(tx: number, abs: string): void {
    if (tx !== 0) {
      this.transactions.get(tx)?.changed.add(abs);
      return;
    }
    this.generation++;
    for (const w of this.dom0Watches) if (abs === w.path || abs.startsWith(`${w.path}/`) || w.path.startsWith(`${abs}/`)) this.dom0Events.push({ path: abs, changed: w.changed });
    for (const w of this.watches) {
      if (w.path.startsWith('@')) continue;
      const wabs = this.canonical(w.domain, w.path);
      if (wabs === null) continue;
      // A change at or below the watched path, or a removal above it.
      const below = abs === wabs || abs.startsWith(wabs === '/' ? '/' : `${wabs}/`);
      const above = wabs.startsWith(`${abs}/`);
      if (!below && !above) continue;
      const n = this.find(this.root, below ? abs : wabs);
      if (n && !this.canRead(n, w.domain)) continue;
      // Relative watches hear relative paths.
      const home = `${homePath(w.domain)}/`;
      const reported = below ? abs : wabs;
      this.events.push({ domain: w.domain, path: w.path.startsWith('/') || !reported.startsWith(home) ? reported : reported.slice(home.length), token: w.token });
    }
  }
}
