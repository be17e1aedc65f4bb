/**
 * The kubelet's one time source. Deadlines, back-off, probe timing and the times it writes
 * in pod status are all read from it, so a test can move the kubelet's time as one.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** RFC 3339 at seconds, as the kubelet writes times in pod status. */
  timestamp(): string;
}

export function clockFrom(now: () => Date): Clock {
  return {
    now: () => now().getTime(),
    timestamp: () =>
      now()
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z'),
  };
}

/**
 * The kubelet's PLEG lists the runtime's containers every second and acts on what changed:
 * a container that exited on its own (a crash, an OOM kill, a Job's command done) is noticed
 * only then, 0 to 1 s after its exit, and one that started is reported then.
 */
export const RELIST_PERIOD_MS = 1000;
