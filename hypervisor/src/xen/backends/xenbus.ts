// The backend half of the xenbus handshake, which dom0's device backends share: the
// device announced in xenstore the way xl does (the frontend's directory owned by the
// domain, the backend's readable by it), a watch on the frontend's state, connecting when
// it says Initialised or Connected and letting go when it says Closing or Closed, errors
// written where the frontend looks for them, and everything undone when the domain goes.

import { ascii, k } from '../abi.js';
import type { Domain } from '../domain.js';
import { homePath } from '../xenstore/store.js';
import type { Xen } from '../xen.js';

export const XENBUS_STATE = {
  initialising: k('XenbusStateInitialising'), initWait: k('XenbusStateInitWait'), initialised: k('XenbusStateInitialised'),
  connected: k('XenbusStateConnected'), closing: k('XenbusStateClosing'), closed: k('XenbusStateClosed'),
} as const;


export abstract class XenbusBackend {
  readonly frontendPath: string;
  readonly backendPath: string;
  /** The frontend's event channel while connected, else -1. */
  protected port = -1;

  /** A device of `type` (`vbd`, `vif`) numbered `devid` of domain `d`. */
  constructor(protected readonly x: Xen, readonly d: Domain, private readonly type: string, readonly devid: number) {
    this.frontendPath = `${homePath(d.domain)}/device/${type}/${devid}`;
    this.backendPath = `${homePath(0)}/backend/${type}/${d.domain}/${devid}`;
  }

  /** Whether the rings are connected. */
  protected abstract get connected(): boolean;
  /** The frontend is ready: map its rings and bind its port (or `fail`). */
  protected abstract connect(): void;
  /** Lets go of the frontend's rings and port. */
  abstract disconnect(): void;

  /**
   * Writes the device's nodes (besides the links and states every device has) and starts
   * watching the frontend; `unplug` runs when the domain is destroyed, after disconnecting.
   */
  protected announce(frontend: Record<string, string>, backend: Record<string, string>, unplug: () => void = () => {}): void {
    const x = this.x, d = this.d, s = x.xenstored.store;
    const put = (path: string, value: string) => s.write(0, 0, path, ascii(value));
    put(this.frontendPath, '');
    s.setPerms(0, 0, this.frontendPath, [{ id: d.domain, perm: 'n' }]);
    put(`${this.frontendPath}/backend`, this.backendPath);
    put(`${this.frontendPath}/backend-id`, '0');
    for (const [key, value] of Object.entries(frontend)) put(`${this.frontendPath}/${key}`, value);
    put(`${this.frontendPath}/state`, String(XENBUS_STATE.initialising));
    put(this.backendPath, '');
    s.setPerms(0, 0, this.backendPath, [{ id: 0, perm: 'n' }, { id: d.domain, perm: 'r' }]);
    put(`${this.backendPath}/frontend`, this.frontendPath);
    put(`${this.backendPath}/frontend-id`, String(d.domain));
    for (const [key, value] of Object.entries(backend)) put(`${this.backendPath}/${key}`, value);
    put(`${this.backendPath}/state`, String(XENBUS_STATE.initWait));
    x.xenstored.watchDom0(`${this.frontendPath}/state`, () => this.frontendChanged());
    x.onDestroy(d, () => {
      this.disconnect();
      unplug();
      x.xenstored.unwatchDom0(`${this.frontendPath}/state`);
      s.rm(0, 0, `${homePath(0)}/backend/${this.type}/${d.domain}`);
    });
    x.xenstored.deliver();
  }

  /** Lets go of the frontend's event channel (bound by the subclass's connect). */
  protected releasePort(): void {
    if (this.port >= 0) this.x.unbindDom0(this.d, this.port);
    this.port = -1;
  }

  /** A node the frontend wrote, or null. */
  protected read(path: string): string | null {
    const v = this.x.xenstored.store.read(0, 0, path);
    return typeof v === 'string' ? null : String.fromCharCode(...v);
  }

  protected setState(state: number): void {
    this.x.xenstored.store.write(0, 0, `${this.backendPath}/state`, ascii(String(state)));
  }

  /** Gives up on the frontend: the reason in `error`, the rings let go, the state Closing. */
  protected fail(why: string): void {
    this.x.xenstored.store.write(0, 0, `${this.backendPath}/error`, ascii(why));
    this.disconnect();
    this.setState(XENBUS_STATE.closing);
  }

  private frontendChanged(): void {
    const state = Number(this.read(`${this.frontendPath}/state`) ?? XENBUS_STATE.closed);
    if ((state === XENBUS_STATE.initialised || state === XENBUS_STATE.connected) && !this.connected) this.connect();
    else if ((state === XENBUS_STATE.closing || state === XENBUS_STATE.closed) && this.connected) {
      this.disconnect();
      this.setState(XENBUS_STATE.closed);
    }
  }
}
