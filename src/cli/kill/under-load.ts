import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from '../context.js';
import { InterruptedError, OperationError, TimeoutError } from '../errors.js';
import type { Progress } from '../output.js';
import { BLAST_CONTAINER, blastJobName, deadlineProblem, newRunId } from '../core/blast-job.js';
import { parseCurlLog, type CurlError } from '../core/curl-log.js';
import { SERVICE } from '../core/names.js';
import {
  LOAD_BEFORE_SECONDS,
  LOAD_COUNT,
  LOAD_RATE_PER_SECOND,
  LOAD_SECONDS,
  buildLoadReport,
  type LoadReport,
} from '../core/under-load.js';
import { runCurlJob } from '../curl-job.js';
import type { KubeApi } from '../kube/api.js';
import type { JobRun } from '../kube/job-run.js';
import type { Target } from '../target.js';
import { crashAndFollow } from './crash.js';
import { deleteAndFollow, type Follow, type Seen } from './follow.js';

/**
 * `kill-pod --under-load`: blast's curl Job sends a steady load through the Service; once it
 * has run LOAD_BEFORE_SECONDS the replica is killed and its replacement followed, and when
 * the load is over its log, read with timestamps, says per second what was answered and
 * by whom.
 */

export interface LoadRun {
  seen: Seen;
  report: LoadReport;
  curlErrors: CurlError[];
  jobName: string;
}

/** Follows the load's log as it is written: how many requests so far, and the first answer. */
class LoadLog {
  requests = 0;
  failed = 0;
  readonly answered: Promise<void>;
  private markAnswered: () => void = () => undefined;
  private follow: Promise<{ stop(): void } | undefined> | undefined;
  private partial = '';

  constructor(
    private readonly api: KubeApi,
    private readonly onCount: () => void,
  ) {
    this.answered = new Promise((resolve) => {
      this.markAnswered = resolve;
    });
  }

  start(pod: string): void {
    this.follow ??= this.api
      .followPodLog(pod, BLAST_CONTAINER, (text) => this.read(text))
      // Best-effort, for progress: without it the kill is timed from the pod's start.
      .catch(() => {
        this.markAnswered();
        return undefined;
      });
  }

  private read(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const status = /^(\d{3}) /.exec(line)?.[1];
      if (status === undefined) continue;
      this.requests += 1;
      if (!status.startsWith('2')) this.failed += 1;
      this.markAnswered();
    }
    this.onCount();
  }

  stop(): void {
    void this.follow?.then((f) => f?.stop());
  }
}

/** One line for Ctrl-C: what the clean-up did, from runJob's notes. */
function cleanedUp(notes: readonly string[], jobName: string): string {
  const trouble = notes.filter((n) => !n.startsWith(`Stopped: deleted Job ${jobName}`));
  return trouble.length > 0 ? trouble.join(' ') : `deleted Job ${jobName} and its pod.`;
}

function progressEveryMs(ctx: Context): number {
  return ctx.printer.interactive ? 250 : 5000;
}

/** `afterKill` runs once the Deployment has recovered, while the load goes on. */
export async function killUnderLoad(
  f: Follow,
  victim: string,
  target: Target,
  afterKill: (seen: Seen) => void,
): Promise<LoadRun> {
  const { ctx, api } = f;
  let shownAt = 0;
  let progress: Progress | undefined;
  const log = new LoadLog(api, () => {
    if (progress === undefined || ctx.now() - shownAt < progressEveryMs(ctx)) return;
    shownAt = ctx.now();
    progress.count('Load', log.requests, LOAD_COUNT);
  });
  try {
    return await loadAndKill(f, victim, { target, log, afterKill }, (next) => (progress = next));
  } finally {
    log.stop();
  }
}

async function loadAndKill(
  f: Follow,
  victim: string,
  { target, log, afterKill }: { target: Target; log: LoadLog; afterKill: (seen: Seen) => void },
  showing: (progress: Progress) => Progress,
): Promise<LoadRun> {
  const { plan, ctx, api } = f;
  const runId = newRunId(ctx.random);
  const jobName = blastJobName(runId);
  const notes: string[] = [];
  let progress = showing(
    ctx.printer.progress(
      `Load: Job ${jobName} sends ${LOAD_COUNT} requests to ${SERVICE} at ${LOAD_RATE_PER_SECOND} a second (${LOAD_SECONDS} s), each on a new connection`,
    ),
  );
  const job = runCurlJob(api, ctx, {
    plan: {
      count: LOAD_COUNT,
      parallel: 1,
      keepAlive: false,
      ratePerSecond: LOAD_RATE_PER_SECOND,
      timed: true,
      timeoutSeconds: LOAD_SECONDS + plan.timeoutSeconds,
    },
    runId,
    target,
    timestamps: true,
    note: (text) => notes.push(text),
    onPod: (pod) => {
      if (pod.status?.phase === 'Running') log.start(pod.metadata?.name ?? '');
    },
  });
  try {
    // Nothing is killed unless the load runs: a Job that fails to start ends it here.
    const started = await Promise.race([log.answered.then(() => true), job.then(() => false)]);
    if (started) await sleep(LOAD_BEFORE_SECONDS * 1000, undefined, { signal: ctx.signal });
    if (!started || ctx.signal.aborted) noKill(await job, jobName, notes, progress);
  } catch (error) {
    progress.stop();
    if (!ctx.signal.aborted) throw error;
    await job.catch(() => undefined);
    throw new InterruptedError(
      `Interrupted before any pod was killed: ${cleanedUp(notes, jobName)}`,
    );
  }
  progress.succeed(
    `Load running: ${log.requests} requests in the first ${LOAD_BEFORE_SECONDS} s, ${log.failed} failed`,
  );
  const kill = plan.crash
    ? crashAndFollow(
        f,
        victim,
        `Crashing ${victim}'s server process under load (POST /crash through a port-forward); following its kubelet as it restarts it:`,
      )
    : deleteAndFollow(
        f,
        victim,
        `Killing ${victim} under load; following the ReplicaSet as it replaces it:`,
      );
  const seen = await kill.catch(async (error: unknown) => {
    const run = await job.catch(() => undefined);
    if (error instanceof InterruptedError && run?.outcome.state === 'interrupted') {
      throw new InterruptedError(
        `${error.message.replace(/\.$/, '')}; ${cleanedUp(notes, jobName)}`,
      );
    }
    throw error;
  });
  afterKill(seen);
  progress = showing(ctx.printer.progress(`Load: the rest of its ${LOAD_COUNT} requests`));
  const run = await job.catch((error: unknown) => {
    progress.stop();
    throw error;
  });
  if (run.outcome.state === 'interrupted') {
    progress.stop();
    const replaced = seen.replacement ? ` by ${seen.replacement}` : '';
    const what = plan.crash
      ? `the crash: ${seen.victim} runs again, restarted in place`
      : `the kill: ${seen.victim} was replaced${replaced}`;
    throw new InterruptedError(`Interrupted after ${what}; ${cleanedUp(notes, jobName)}`);
  }
  for (const note of notes) ctx.printer.note(note);
  const { records, errors } = loadRecords(run, jobName, plan.timeoutSeconds, progress);
  const report = buildLoadReport(records, seen.killedAt, victim);
  const summary = `Load: ${report.requests} requests, ${report.failed} failed (Job ${jobName}, ${run.podsCreated} pod)`;
  if (report.failed === 0) progress.succeed(summary);
  else progress.fail(summary);
  return { seen, report, curlErrors: errors, jobName };
}

/** The load ended, or Ctrl-C came, before the kill: say so, and kill nothing. */
function noKill(run: JobRun, jobName: string, notes: string[], progress: Progress): never {
  progress.stop();
  if (run.outcome.state === 'interrupted') {
    throw new InterruptedError(
      `Interrupted before any pod was killed: ${cleanedUp(notes, jobName)}`,
    );
  }
  const clue = parseCurlLog(run.log).unparsed[0];
  throw new OperationError(
    `The load (Job ${jobName}) ${run.outcome.state === 'failed' ? `failed (${run.outcome.reason})` : 'ended'} before it got an answer, so no pod was killed${clue ? `: ${clue}` : '.'}`,
    'Check that the Service has ready endpoints (`kubectl get endpoints -n <namespace>`), then try again.',
  );
}

function loadRecords(
  run: JobRun,
  jobName: string,
  timeoutSeconds: number,
  progress: Progress,
): ReturnType<typeof parseCurlLog> {
  const { outcome } = run;
  if (run.logError) {
    progress.stop();
    throw run.logError;
  }
  const parsed = parseCurlLog(run.log);
  if (outcome.state === 'failed' && outcome.reason === 'DeadlineExceeded') {
    progress.fail(`Load: Job ${jobName} ran past its deadline`);
    const problem = deadlineProblem(
      LOAD_SECONDS + timeoutSeconds,
      parsed.records.length,
      LOAD_COUNT,
    );
    throw new TimeoutError(problem.message, 'Raise --timeout.');
  }
  if (parsed.records.length === 0) {
    progress.fail(`Load: Job ${jobName} ${outcome.state}`);
    throw new OperationError(
      `The load (Job ${jobName}) reported no request: ${parsed.unparsed[0] ?? 'an empty log'}`,
    );
  }
  return parsed;
}
