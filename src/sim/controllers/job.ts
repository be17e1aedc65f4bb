import type { KubeObject, Store } from '../store.js';
import { recordEvent } from '../events.js';
import {
  JOBS,
  isPodTerminal,
  PODS,
  controllerOf,
  deletePod,
  deleteQuietly,
  isPodActive,
  isPodReady,
  keyOf,
  ownedBy,
  splitKey,
} from './common.js';
import { stableJson } from './deployment.js';
import { createPodFor } from './pods.js';
import { WorkQueue, type SyncResult } from './queue.js';
import { specOf, statusOf, type Condition, type ContainerStatus, type JobSpec } from './types.js';

const COMPONENT = 'job-controller';
/** As the Job controller waits before replacing a failed pod: 10 s doubling to 6 min. */
const BACKOFF_BASE_MS = 10_000;
const BACKOFF_CAP_MS = 360_000;

interface JobStatus {
  startTime: string;
  completionTime: string;
  active: number;
  succeeded: number;
  failed: number;
  ready: number;
  conditions: Condition[];
}

function podFinishedAt(pod: KubeObject): number {
  const statuses = statusOf<{ containerStatuses: ContainerStatus[] }>(pod).containerStatuses ?? [];
  return Math.max(0, ...statuses.map((s) => Date.parse(s.state.terminated?.finishedAt ?? '') || 0));
}

function hasCondition(conditions: Condition[], type: string): boolean {
  return conditions.some((c) => c.type === type && c.status === 'True');
}

function restartsOf(pod: KubeObject): number {
  const statuses = statusOf<{ containerStatuses: ContainerStatus[] }>(pod).containerStatuses ?? [];
  return statuses.reduce((n, c) => n + c.restartCount, 0);
}

const BACKOFF_LIMIT_EXCEEDED = {
  reason: 'BackoffLimitExceeded',
  message: 'Job has reached the specified backoff limit',
};
const DEADLINE_EXCEEDED = {
  reason: 'DeadlineExceeded',
  message: 'Job was active longer than specified deadline',
};

/** One sync of one Job: what it found, and what it decided so far. */
interface JobPass {
  readonly job: KubeObject;
  readonly spec: JobSpec;
  /** This pass's time, as written in status and as milliseconds. */
  readonly now: string;
  readonly nowMs: number;
  readonly pods: KubeObject[];
  readonly active: KubeObject[];
  readonly succeeded: number;
  readonly failed: number;
  readonly conditions: Condition[];
  startTime: string | undefined;
  completionTime: string | undefined;
  /** When to look again, in milliseconds. */
  requeue: number | undefined;
}

/** Adds a True condition unless the Job has it already. */
function setCondition(pass: JobPass, type: string, reason: string, message: string): void {
  if (hasCondition(pass.conditions, type)) return;
  pass.conditions.push({
    type,
    status: 'True',
    lastProbeTime: pass.now,
    lastTransitionTime: pass.now,
    reason,
    message,
  });
}

/** Job -> pods until enough succeed (Complete) or too many fail / time runs out (Failed). */
export class JobController {
  private readonly queue: WorkQueue;
  private readonly unwatch: (() => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
    log: (message: string) => void,
  ) {
    this.queue = new WorkQueue('job', (key) => this.sync(key), log);
  }

  start(): void {
    this.unwatch.push(
      this.store.watch(JOBS, {}, (e) => {
        if (e.type !== 'DELETED') this.queue.add(keyOf(e.object));
      }),
      this.store.watch(PODS, {}, (e) => {
        const owner = controllerOf(e.object);
        if (owner?.kind === 'Job')
          this.queue.add(`${e.object.metadata.namespace ?? ''}/${owner.name}`);
      }),
    );
  }

  async stop(): Promise<void> {
    for (const u of this.unwatch.splice(0)) u();
    await this.queue.stop();
  }

  private sync(key: string): SyncResult {
    const [ns, name] = splitKey(key);
    const job = this.store.get(JOBS, ns, name);
    if (!job) return;
    const pass = this.look(job);
    const finished =
      hasCondition(pass.conditions, 'Complete') || hasCondition(pass.conditions, 'Failed');
    if (finished) {
      for (const p of pass.active) deletePod(this.store, p);
      if (this.expire(pass)) return undefined;
    } else if (!pass.spec.suspend && !job.metadata.deletionTimestamp) {
      this.progress(pass);
    }
    this.writeStatus(pass);
    return pass.requeue;
  }

  /** The Job and its pods as this pass sees them. */
  private look(job: KubeObject): JobPass {
    const spec = specOf<JobSpec>(job);
    const prev = statusOf<JobStatus>(job);
    const pods = ownedBy(this.store, PODS, job);
    const active = pods.filter(isPodActive);
    const phaseCount = (phase: string) =>
      pods.filter((p) => statusOf<{ phase: string }>(p).phase === phase).length;
    let failed = phaseCount('Failed');
    if (spec.template.spec.restartPolicy === 'OnFailure') {
      // With OnFailure the kubelet restarts in place: restarts count against the limit.
      failed += active.reduce((n, p) => n + restartsOf(p), 0);
    }
    return {
      job,
      spec,
      now: this.store.timestamp(),
      nowMs: this.now().getTime(),
      pods,
      active,
      succeeded: phaseCount('Succeeded'),
      failed,
      conditions: structuredClone(prev.conditions ?? []),
      startTime: prev.startTime,
      completionTime: prev.completionTime,
      requeue: undefined,
    };
  }

  /** A finished Job with ttlSecondsAfterFinished goes once that has passed; true when gone. */
  private expire(pass: JobPass): boolean {
    const { job, spec, conditions } = pass;
    if (spec.ttlSecondsAfterFinished === undefined || job.metadata.deletionTimestamp) return false;
    const end = conditions.find(
      (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
    );
    const at =
      Date.parse(pass.completionTime ?? end?.lastTransitionTime ?? pass.now) +
      spec.ttlSecondsAfterFinished * 1000;
    if (at <= pass.nowMs) {
      // Background propagation: the garbage collector takes the pods.
      deleteQuietly(this.store, JOBS, job, { propagationPolicy: 'Background' });
      return true;
    }
    pass.requeue = at - pass.nowMs;
    return false;
  }

  /** A running Job: fail it, complete it, or keep `parallelism` pods going. */
  private progress(pass: JobPass): void {
    const { spec } = pass;
    pass.startTime ??= pass.now;
    const completions = spec.completions === null ? null : (spec.completions ?? 1);
    const deadlineAt =
      spec.activeDeadlineSeconds !== undefined
        ? Date.parse(pass.startTime) + spec.activeDeadlineSeconds * 1000
        : Infinity;
    const failure =
      pass.failed > (spec.backoffLimit ?? 6)
        ? BACKOFF_LIMIT_EXCEEDED
        : pass.nowMs >= deadlineAt
          ? DEADLINE_EXCEEDED
          : undefined;
    const complete =
      completions === null
        ? pass.succeeded > 0 && pass.active.length === 0
        : pass.succeeded >= completions;
    if (failure) this.fail(pass, failure);
    else if (complete) this.complete(pass);
    else {
      const parallelism = spec.parallelism ?? 1;
      const want = Math.min(
        parallelism,
        completions === null ? parallelism : completions - pass.succeeded,
      );
      this.scale(pass, want);
      if (Number.isFinite(deadlineAt)) {
        const left = deadlineAt - pass.nowMs;
        pass.requeue = Math.min(pass.requeue ?? Infinity, Math.max(0, left));
      }
    }
  }

  private fail(pass: JobPass, failure: { reason: string; message: string }): void {
    if (!hasCondition(pass.conditions, 'FailureTarget')) {
      recordEvent(this.store, pass.job, 'Warning', failure.reason, failure.message, COMPONENT);
    }
    setCondition(pass, 'FailureTarget', failure.reason, failure.message);
    for (const p of pass.active) deletePod(this.store, p);
    // Terminating pods still count: the real controller waits for them before finishing.
    const running = ownedBy(this.store, PODS, pass.job).filter((p) => !isPodTerminal(p));
    if (running.length === 0) setCondition(pass, 'Failed', failure.reason, failure.message);
  }

  private complete(pass: JobPass): void {
    const why = 'Reached expected number of succeeded pods';
    setCondition(pass, 'SuccessCriteriaMet', 'CompletionsReached', why);
    for (const p of pass.active) deletePod(this.store, p);
    if (pass.active.length > 0) return;
    setCondition(pass, 'Complete', 'CompletionsReached', why);
    pass.completionTime = pass.now;
    recordEvent(this.store, pass.job, 'Normal', 'Completed', 'Job completed', COMPONENT);
    if (pass.spec.ttlSecondsAfterFinished !== undefined)
      pass.requeue = pass.spec.ttlSecondsAfterFinished * 1000;
  }

  /** `want` active pods: new ones after the back-off of the last failure, or extra ones deleted. */
  private scale(pass: JobPass, want: number): void {
    const { job, active } = pass;
    if (active.length > want) {
      for (const p of active.slice(want)) deletePod(this.store, p);
      return;
    }
    if (active.length === want) return;
    const lastFailure = Math.max(
      0,
      ...pass.pods
        .filter((p) => statusOf<{ phase: string }>(p).phase === 'Failed')
        .map(podFinishedAt),
    );
    const delay =
      pass.failed > 0 ? Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (pass.failed - 1)) : 0;
    const wait = lastFailure + delay - pass.nowMs;
    if (wait > 0) {
      pass.requeue = wait;
      return;
    }
    const name = job.metadata.name;
    const labels = {
      'batch.kubernetes.io/controller-uid': job.metadata.uid,
      'batch.kubernetes.io/job-name': name,
      'controller-uid': job.metadata.uid,
      'job-name': name,
    };
    for (let i = active.length; i < want; i += 1) {
      if (
        typeof createPodFor(this.store, job, pass.spec.template, labels, COMPONENT) === 'string'
      ) {
        pass.requeue = 5000;
        break;
      }
    }
  }

  private writeStatus(pass: JobPass): void {
    const { job, succeeded, failed, conditions, startTime, completionTime } = pass;
    const nowActive = ownedBy(this.store, PODS, job).filter(isPodActive);
    const status: Record<string, unknown> = {
      ...(startTime ? { startTime } : {}),
      ...(completionTime ? { completionTime } : {}),
      ...(nowActive.length > 0 ? { active: nowActive.length } : {}),
      ...(succeeded > 0 ? { succeeded } : {}),
      ...(failed > 0 ? { failed } : {}),
      ready: nowActive.filter(isPodReady).length,
      terminating: pass.pods.filter((p) => p.metadata.deletionTimestamp).length,
      uncountedTerminatedPods: {},
      ...(conditions.length > 0 ? { conditions } : {}),
    };
    this.store.update(JOBS, job.metadata.namespace, job.metadata.name, (o) => {
      if (stableJson(o.status ?? {}) === stableJson(status)) return false;
      o.status = status;
    });
  }
}
