import type { LifecycleHandler } from '../controllers/types.js';
import type { ContainerRun } from './container.js';
import { httpGet } from './probes.js';
import { signalGroup } from './process.js';
import type { PodWorker } from './pod-worker.js';

/**
 * Stopping containers as the kubelet does: the preStop hook, SIGTERM, and SIGKILL when the
 * grace period is over; for a deleted pod every container so, then the pod removed.
 */

/** The real kubelet gives a container at least 2 s after its preStop hook. */
const MIN_GRACE_AFTER_HOOK_MS = 2000;

/**
 * How long the kubelet takes to act on a forced deletion (grace 0): on the kind cluster here
 * (Kubernetes 1.34) the containers got SIGTERM 1.0 to 1.1 s after it, while kube-proxy had
 * stopped sending to the pod within 50 ms. (A graceful deletion's preStop hook starts at once.)
 */
export const FORCED_STOP_DELAY_MS = 1000;
/** The least time the kubelet leaves between SIGTERM and SIGKILL, whatever the grace period. */
const MIN_GRACE_MS = 2000;

/** Graceful deletion: every container stopped within the grace period, then the pod removed. */
export function terminate(w: PodWorker, graceSeconds: number): void {
  const deadline = w.clock.now() + Math.max(0, graceSeconds) * 1000;
  if (w.terminating) {
    if (deadline < w.deadline) {
      w.deadline = deadline;
      for (const c of w.all()) killAt(w, c, deadline);
    }
    return;
  }
  w.terminating = true;
  w.deadline = deadline;
  for (const c of w.all()) c.noticeExit();
  for (const c of w.all()) {
    c.clearTimers();
    c.ready = false;
    if (!c.running() && c.state.waiting) {
      c.state = c.lastState.terminated ? { terminated: c.lastState.terminated } : c.state;
    }
  }
  w.publish();
  const stops = w
    .all()
    .filter((c) => c.running())
    .map((c) => {
      w.event('Normal', 'Killing', `Stopping container ${c.spec.name}`, c.spec.name);
      const wasProbe = c.stopping === 'probe';
      c.stopping = 'termination';
      if (wasProbe) {
        // Already being stopped; only the deadline may come sooner.
        killAt(w, c, deadline);
        return c.exited;
      }
      return stopContainer(w, c, deadline);
    });
  void Promise.all(stops).then(() => w.finish());
}

/**
 * A pod deleted with grace 0 (the API removes it at once) or otherwise gone from the API
 * while its containers run: a second later (FORCED_STOP_DELAY_MS) each container still
 * running gets SIGTERM, with no preStop hook, and SIGKILL 2 s after. Resolves when every
 * container has exited.
 */
export async function stopForced(w: PodWorker): Promise<void> {
  w.terminating = true;
  for (const c of w.all()) c.noticeExit();
  const running = w.all().filter((c) => c.running());
  for (const c of w.all()) {
    c.clearTimers();
    c.ready = false;
  }
  if (running.length === 0) return;
  for (const c of running) {
    c.after(FORCED_STOP_DELAY_MS, () => {
      // A termination already under way keeps its own course, only shortened.
      if (c.stopping !== 'termination') signalGroup(c.proc?.pid, 'SIGTERM');
      c.stopping = 'termination';
      killAt(w, c, w.clock.now() + MIN_GRACE_MS);
    });
  }
  await Promise.all(running.map((c) => c.exited));
}

/** preStop, SIGTERM, and SIGKILL at `deadline` (at least 2 s after the hook). */
export async function stopContainer(
  w: PodWorker,
  c: ContainerRun,
  deadline: number,
): Promise<void> {
  const pid = c.proc?.pid;
  if (!c.running()) return;
  const preStop = c.spec.lifecycle?.preStop;
  if (preStop && deadline - w.clock.now() > 0) {
    await runPreStop(w, c, preStop, () => (c.stopping === 'termination' ? w.deadline : deadline));
    const asked = deadline;
    deadline = Math.max(deadline, w.clock.now() + MIN_GRACE_AFTER_HOOK_MS);
    // A second delete with a shorter grace period overrides even that minimum.
    if (c.stopping === 'termination' && w.deadline < asked) {
      deadline = Math.max(w.deadline, w.clock.now());
    }
  }
  if (!c.running()) return;
  if (deadline - w.clock.now() <= 0) signalGroup(pid, 'SIGKILL');
  else {
    signalGroup(pid, 'SIGTERM');
    killAt(w, c, deadline);
  }
  await c.exited;
}

/** SIGKILL `c` at `at`, or sooner if it was due sooner already. */
function killAt(w: PodWorker, c: ContainerRun, at: number): void {
  if (!c.running() || at >= c.killAt) return;
  if (c.killTimer) clearTimeout(c.killTimer);
  c.killAt = at;
  const pid = c.proc?.pid;
  c.killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), Math.max(0, at - w.clock.now()));
}

/** Resolves at `deadline()` (which a shorter grace period can still move forward) or when `c` exits. */
function cutoff(w: PodWorker, c: ContainerRun, deadline: () => number): Promise<void> {
  return new Promise<void>((resolve) => {
    const check = (): void => {
      if (w.clock.now() >= deadline() || !c.running()) resolve();
      else {
        const t = setTimeout(check, Math.min(100, Math.max(1, deadline() - w.clock.now())));
        t.unref();
      }
    };
    check();
  });
}

async function runPreStop(
  w: PodWorker,
  c: ContainerRun,
  hook: LifecycleHandler,
  deadline: () => number,
): Promise<void> {
  const cut = cutoff(w, c, deadline);
  if (hook.sleep) {
    const ms = Math.max(0, hook.sleep.seconds) * 1000;
    await Promise.race([new Promise<void>((r) => setTimeout(r, ms).unref()), cut]);
    return;
  }
  if (hook.httpGet) {
    const timeout = Math.max(1, deadline() - w.clock.now());
    const result = await Promise.race([
      httpGet(hook.httpGet, c.spec, w.podIP, timeout),
      cut.then(() => ({ ok: true, message: '' })),
    ]);
    if (!result.ok) {
      w.event(
        'Warning',
        'FailedPreStopHook',
        `PreStopHook failed: HTTP lifecycle hook (${hook.httpGet.path ?? '/'}) for Container "${c.spec.name}" in Pod "${w.podRef()}" failed - error: ${result.message}`,
        c.spec.name,
      );
    }
    return;
  }
  const kind = hook.exec ? 'exec' : 'tcpSocket';
  w.event(
    'Warning',
    'FailedPreStopHook',
    `PreStopHook failed: ${kind} lifecycle hooks are not supported by the embedded cluster; skipped`,
    c.spec.name,
  );
}

/** The daemon is stopping: SIGTERM, up to 2 s, SIGKILL, and wait for every exit. */
export async function shutdown(w: PodWorker): Promise<void> {
  w.gone = true;
  w.terminating = true;
  for (const c of w.all()) c.noticeExit();
  const running = w.all().filter((c) => c.running());
  for (const c of w.all()) c.clearTimers();
  for (const c of running) signalGroup(c.proc?.pid, 'SIGTERM');
  const all = Promise.all(running.map((c) => c.exited));
  const timeout = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
  await Promise.race([all, timeout(2000)]);
  for (const c of running) if (c.running()) signalGroup(c.proc?.pid, 'SIGKILL');
  await Promise.race([all, timeout(2000)]);
}
