import { errorMessage } from './common.js';

/** What a sync returns: nothing, or milliseconds after which to look at the key again. */
export type SyncResult = number | void | undefined;

/**
 * A work queue as client-go's: a key added while waiting is processed once (changes
 * coalesce), one key at a time, in arrival order; a failing sync is retried later.
 */
export class WorkQueue {
  private readonly pending = new Set<string>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private scheduled = false;
  private stopped = false;
  private draining: Promise<void> = Promise.resolve();

  constructor(
    private readonly name: string,
    private readonly sync: (key: string) => SyncResult | Promise<SyncResult>,
    private readonly log: (message: string) => void,
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    this.pending.add(key);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.draining = this.drain();
      });
    }
  }

  /** Look at `key` again in `ms`; an earlier request for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    const at = Date.now() + ms;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(
      () => {
        this.timers.delete(key);
        this.add(key);
      },
      Math.max(0, ms),
    );
    this.timers.set(key, { at, timer });
  }

  private async drain(): Promise<void> {
    // Bounded by the keys present: each pass takes one out; new ones schedule another pass.
    let done = 0;
    while (!this.stopped && this.pending.size > 0) {
      // Let timers and I/O in now and then, whatever the controllers keep adding.
      if (++done % 50 === 0) await new Promise((r) => setImmediate(r));
      const key = this.pending.values().next().value as string;
      this.pending.delete(key);
      try {
        const again = await this.sync(key);
        if (typeof again === 'number' && again >= 0) this.addAfter(key, again);
      } catch (err) {
        this.log(`${this.name}: sync of ${key} failed, retrying: ${errorMessage(err)}`);
        this.addAfter(key, 1000);
      }
      if (this.pending.size === 0) break;
    }
    this.scheduled = false;
    if (!this.stopped && this.pending.size > 0)
      this.add(this.pending.values().next().value as string);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    this.pending.clear();
    await this.draining;
  }
}
