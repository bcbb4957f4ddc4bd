// The console backend (what xenconsoled does in dom0, built in): the guest writes its
// output into the `out` ring of the console page and notifies the console event channel;
// the backend drains it into the domain's console stream and frees the space. Input the
// host injects goes into the `in` ring, with a notification.

import { xenField } from '../../../isa/src/index.js';
import type { Domain } from './domain.js';

const f = (name: string) => xenField('xencons_interface', name)!;
const IN = f('in'), OUT = f('out');
const IN_CONS = f('in_cons').offset, IN_PROD = f('in_prod').offset, OUT_CONS = f('out_cons').offset, OUT_PROD = f('out_prod').offset;

/** The domain id the console (and every other backend) lives in. */
export const BACKEND_DOMAIN = 0;

export class ConsoleBackend {
  constructor(private readonly d: Domain, private readonly mfn: number, readonly port: number) {}

  private get base(): number {
    return this.mfn * 4096;
  }

  /** The guest notified the console port: take what it wrote. */
  drain(): void {
    const mem = this.d.cpu.mem;
    const cons = mem.read32(this.base + OUT_CONS);
    const prod = mem.read32(this.base + OUT_PROD);
    // A producer more than a ring ahead is a guest bug: take one ring's worth.
    const n = Math.min((prod - cons) >>> 0, OUT.size);
    let text = '';
    for (let i = 0; i < n; i++) text += String.fromCharCode(mem.read8(this.base + OUT.offset + ((cons + i) & (OUT.size - 1))));
    if (n) this.d.writeConsole(text);
    mem.write32(this.base + OUT_CONS, (cons + n) >>> 0);
    this.d.events.raise(this.port);
  }

  /** Puts host input into the guest's `in` ring (as much as fits) and notifies it; returns bytes taken. */
  input(text: string): number {
    const mem = this.d.cpu.mem;
    const cons = mem.read32(this.base + IN_CONS);
    let prod = mem.read32(this.base + IN_PROD);
    let n = 0;
    for (; n < text.length && ((prod - cons) >>> 0) < IN.size; n++, prod = (prod + 1) >>> 0) {
      mem.write8(this.base + IN.offset + (prod & (IN.size - 1)), text.charCodeAt(n) & 0xff);
    }
    mem.write32(this.base + IN_PROD, prod);
    if (n) this.d.events.raise(this.port);
    return n;
  }
}
