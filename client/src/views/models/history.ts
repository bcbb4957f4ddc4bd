// "What changed since the previous stop": each view keeps the body it showed at the
// current stop and the one of the stop before. Refreshing within one stop (a panel opened,
// a row expanded) replaces the current body and keeps comparing with the previous stop.

export class StopHistory<T> {
  private stop: number | null = null;
  private current: T | undefined;
  private previous: T | undefined;

  /** Records `body` as stop `stop`'s; returns the previous stop's body to compare with. */
  record(stop: number, body: T): T | undefined {
    if (stop !== this.stop) {
      this.previous = this.stop === null ? undefined : this.current;
      this.stop = stop;
    }
    this.current = body;
    return this.previous;
  }

  /** A new debug session: nothing to compare with. */
  reset(): void {
    this.stop = null;
    this.current = this.previous = undefined;
  }
}
