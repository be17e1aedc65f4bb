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

  /** Run `fn` after `ms` unless the container's timers are cleared first. */
  after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }
}
