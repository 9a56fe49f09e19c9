/**
 * The emulator's timers: unref'd (an idle emulator never keeps a process alive on their
 * account) and all cleared by `close()`.
 */
export class Timers {
  private readonly pending = new Set<NodeJS.Timeout>();
  private closed = false;

  /** Runs `fn` after `ms` unless the emulator closes first. */
  after(ms: number, fn: () => void): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.pending.delete(t);
      fn();
    }, ms);
    t.unref();
    this.pending.add(t);
  }

  /** Resolves after `ms`; never resolves once the emulator is closed (its caller's socket is gone by then). */
  delay(ms: number): Promise<void> {
    return new Promise((resolve) => this.after(ms, resolve));
  }

  /** True once {@link clearAll} ran. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Cancels every pending timer and refuses new ones. */
  clearAll(): void {
    this.closed = true;
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
  }
}
