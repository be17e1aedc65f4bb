import type { ChildProcess } from 'node:child_process';
import type { Container, ContainerState } from '../controllers/types.js';
import type { ImageKind } from './images.js';
import type { ContainerLog } from './logs.js';

/** One run-and-restart history of one container of a pod. */
export class ContainerRun {
  proc: ChildProcess | undefined;
  state: ContainerState = { waiting: { reason: 'ContainerCreating' } };
  lastState: ContainerState = {};
  restartCount = 0;
  crashes = 0;
  /** Failed pulls of its image, for the pull back-off. */
  pullFailures = 0;
  everStarted = false;
  ready = false;
  started = false;
  containerID: string | undefined;
  startedAtMs = 0;
  log: ContainerLog | undefined;
  /** Bumped on each start: timers of an earlier run see a different number and stop. */
  runId = 0;
  readonly timers = new Set<NodeJS.Timeout>();
  exited: Promise<void> = Promise.resolve();
  private resolveExit: () => void = () => undefined;
  killTimer: NodeJS.Timeout | undefined;
  killAt = Infinity;
  /** Why the kubelet is stopping it, if it is: restarts after a failed probe differ from deletion. */
  stopping: 'probe' | 'termination' | undefined;
  /** An exit the kubelet has not noticed yet (run.ts), and the timer of its next relist. */
  private unnoticed: { timer: NodeJS.Timeout; handle: () => void } | undefined;

  constructor(
    readonly spec: Container,
    readonly kind: ImageKind,
    /** Init containers run one after another, to completion, before the others start. */
    readonly init = false,
  ) {}

  running(): boolean {
    return this.proc !== undefined;
  }

  armExit(): void {
    this.exited = new Promise((resolve) => {
      this.resolveExit = resolve;
    });
  }

  markExited(): void {
    this.resolveExit();
  }

  clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /**
   * The process exited on its own: `handle` runs after `ms` (at the kubelet's next relist),
   * or at once through noticeExit. Not one of `timers`: an exit is always handled.
   */
  exitUnnoticed(ms: number, handle: () => void): void {
    this.unnoticed = { timer: setTimeout(() => this.noticeExit(), ms), handle };
  }

  /** Handles an exit not noticed yet, now: the kubelet is about to stop the container anyway. */
  noticeExit(): void {
    const pending = this.unnoticed;
    if (!pending) return;
    this.unnoticed = undefined;
    clearTimeout(pending.timer);
    pending.handle();
  }

  /** Run `fn` after `ms` unless the container's timers are cleared first. */
  after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }
}
