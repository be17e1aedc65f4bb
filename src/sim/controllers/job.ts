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
/** The real controller waits 10 s doubling to 6 min before replacing a failed pod; capped low here. */
const BACKOFF_BASE_MS = 1000;
const BACKOFF_CAP_MS = 10_000;

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
    const spec = specOf<JobSpec>(job);
    const prev = statusOf<JobStatus>(job);
    const conditions = structuredClone(prev.conditions ?? []);
    const nowMs = this.now().getTime();
    const now = this.store.timestamp();
    const pods = ownedBy(this.store, PODS, job);
    const active = pods.filter(isPodActive);
    const succeeded = pods.filter(
      (p) => statusOf<{ phase: string }>(p).phase === 'Succeeded',
    ).length;
    let failed = pods.filter((p) => statusOf<{ phase: string }>(p).phase === 'Failed').length;
    if (spec.template.spec.restartPolicy === 'OnFailure') {
      // With OnFailure the kubelet restarts in place: restarts count against the limit.
      failed += active.reduce(
        (n, p) =>
          n +
          (statusOf<{ containerStatuses: ContainerStatus[] }>(p).containerStatuses ?? []).reduce(
            (m, c) => m + c.restartCount,
            0,
          ),
        0,
      );
    }
    // Terminating pods still count: the real controller waits for them before finishing.
    const running = (): number =>
      ownedBy(this.store, PODS, job).filter((p) => !isPodTerminal(p)).length;
    const finished = hasCondition(conditions, 'Complete') || hasCondition(conditions, 'Failed');
    let requeue: number | undefined;
    let startTime = prev.startTime;
    let completionTime = prev.completionTime;
    const setCondition = (type: string, reason: string, message: string): void => {
      if (hasCondition(conditions, type)) return;
      conditions.push({
        type,
        status: 'True',
        lastProbeTime: now,
        lastTransitionTime: now,
        reason,
        message,
      });
    };

    if (finished) {
      for (const p of active) deletePod(this.store, p);
      if (spec.ttlSecondsAfterFinished !== undefined && !job.metadata.deletionTimestamp) {
        const end = conditions.find(
          (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
        );
        const at =
          Date.parse(completionTime ?? end?.lastTransitionTime ?? now) +
          spec.ttlSecondsAfterFinished * 1000;
        if (at <= nowMs) {
          // Background propagation: the garbage collector takes the pods.
          deleteQuietly(this.store, JOBS, job, { propagationPolicy: 'Background' });
          return undefined;
        }
        requeue = at - nowMs;
      }
    } else if (!spec.suspend && !job.metadata.deletionTimestamp) {
      startTime ??= now;
      const backoffLimit = spec.backoffLimit ?? 6;
      const completions = spec.completions === null ? null : (spec.completions ?? 1);
      const parallelism = spec.parallelism ?? 1;
      const deadlineAt =
        spec.activeDeadlineSeconds !== undefined
          ? Date.parse(startTime) + spec.activeDeadlineSeconds * 1000
          : Infinity;
      let failure: { reason: string; message: string } | undefined;
      if (failed > backoffLimit) {
        failure = {
          reason: 'BackoffLimitExceeded',
          message: 'Job has reached the specified backoff limit',
        };
      } else if (nowMs >= deadlineAt) {
        failure = {
          reason: 'DeadlineExceeded',
          message: 'Job was active longer than specified deadline',
        };
      }
      const complete =
        completions === null ? succeeded > 0 && active.length === 0 : succeeded >= completions;
      if (failure) {
        if (!hasCondition(conditions, 'FailureTarget')) {
          recordEvent(this.store, job, 'Warning', failure.reason, failure.message, COMPONENT);
        }
        setCondition('FailureTarget', failure.reason, failure.message);
        for (const p of active) deletePod(this.store, p);
        if (running() === 0) setCondition('Failed', failure.reason, failure.message);
      } else if (complete) {
        setCondition(
          'SuccessCriteriaMet',
          'CompletionsReached',
          'Reached expected number of succeeded pods',
        );
        for (const p of active) deletePod(this.store, p);
        if (active.length === 0) {
          setCondition(
            'Complete',
            'CompletionsReached',
            'Reached expected number of succeeded pods',
          );
          completionTime = now;
          recordEvent(this.store, job, 'Normal', 'Completed', 'Job completed', COMPONENT);
          if (spec.ttlSecondsAfterFinished !== undefined)
            requeue = spec.ttlSecondsAfterFinished * 1000;
        }
      } else {
        const want = Math.min(
          parallelism,
          completions === null ? parallelism : completions - succeeded,
        );
        if (active.length < want) {
          const lastFailure = Math.max(
            0,
            ...pods
              .filter((p) => statusOf<{ phase: string }>(p).phase === 'Failed')
              .map(podFinishedAt),
          );
          const delay =
            failed > 0 ? Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (failed - 1)) : 0;
          const wait = lastFailure + delay - nowMs;
          if (wait > 0) requeue = wait;
          else {
            const labels = {
              'batch.kubernetes.io/controller-uid': job.metadata.uid,
              'batch.kubernetes.io/job-name': name,
              'controller-uid': job.metadata.uid,
              'job-name': name,
            };
            for (let i = active.length; i < want; i += 1) {
              if (
                typeof createPodFor(this.store, job, spec.template, labels, COMPONENT) === 'string'
              ) {
                requeue = 5000;
                break;
              }
            }
          }
        } else if (active.length > want) {
          for (const p of active.slice(want)) deletePod(this.store, p);
        }
        if (Number.isFinite(deadlineAt)) {
          const left = deadlineAt - nowMs;
          requeue = Math.min(requeue ?? Infinity, Math.max(0, left));
        }
      }
    }

    const nowActive = ownedBy(this.store, PODS, job).filter(isPodActive);
    const status: Record<string, unknown> = {
      ...(startTime ? { startTime } : {}),
      ...(completionTime ? { completionTime } : {}),
      ...(nowActive.length > 0 ? { active: nowActive.length } : {}),
      ...(succeeded > 0 ? { succeeded } : {}),
      ...(failed > 0 ? { failed } : {}),
      ready: nowActive.filter(isPodReady).length,
      terminating: pods.filter((p) => p.metadata.deletionTimestamp).length,
      uncountedTerminatedPods: {},
      ...(conditions.length > 0 ? { conditions } : {}),
    };
    this.store.update(JOBS, ns, name, (o) => {
      if (stableJson(o.status ?? {}) === stableJson(status)) return false;
      o.status = status;
    });
    return requeue;
  }
}
