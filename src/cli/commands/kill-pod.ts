import type { Context } from '../context.js';
import { OperationError } from '../errors.js';
import type { KillPodFlags } from '../core/flags.js';
import { planKillPod } from '../core/blast-plan.js';
import { replicaId } from '../core/curl-log.js';
import { buildTimeline, secondsBetween, type TimelineEntry } from '../core/timeline.js';
import { LOAD_RATE_PER_SECOND, gracefulLoss, type LoadReport } from '../core/under-load.js';
import { describeTarget, noCluster, resolveTarget } from '../target.js';
import { connect } from '../kube/api.js';
import { selectorString } from '../core/pods.js';
import { chooseVictim, deleteAndFollow, type Follow, type Seen } from '../kill/follow.js';
import { killUnderLoad, type LoadRun } from '../kill/under-load.js';
import { podColours } from '../pod-colours.js';
import { renderLoad, type LoadMark } from '../render/under-load.js';

export interface KillPodResult {
  killed: string;
  replacement: string | null;
  node: string | null;
  recoverySeconds: number | null;
  timeline: TimelineEntry[];
  /** With --under-load: what the load saw, per second. */
  load?: LoadReport & { job: string };
}

/**
 * `replica-demo kill-pod`: delete one replica and follow, by watch, how it is replaced; with
 * --under-load, while a steady load runs through the Service, and what it saw per second.
 */
export async function killPod(
  opts: KillPodFlags,
  ctx: Context,
  /** Hears the result before it is printed, also when the load's requests failed. */
  onResult: (result: KillPodResult) => void = () => undefined,
): Promise<KillPodResult> {
  const plan = planKillPod(opts);
  const target = await resolveTarget(opts, ctx, { detect: true });
  if (target === undefined) throw noCluster();
  ctx.printer.note(describeTarget(target));
  const api = connect(target);
  const namespace = api.namespace;
  const desired = (await api.readDeployment()).spec?.replicas ?? 1;
  const service = await api.readService();
  const pods = api.pods({ labelSelector: selectorString(service.spec?.selector) });
  const endpoints = api.endpoints();
  try {
    await Promise.all([pods.start(), endpoints.start()]);
    const f: Follow = { plan, ctx, namespace, desired, api, pods, endpoints };
    // Chosen first: a wrong --pod is refused before any load or deletion.
    const victim = chooseVictim(f);
    if (plan.underLoad) {
      const afterKill = (seen: Seen) => {
        if (!plan.json) recovered(f, seen, killResult(f, seen));
      };
      return await reportUnderLoad(f, await killUnderLoad(f, victim, target, afterKill), onResult);
    }
    return report(f, await deleteAndFollow(f, victim), onResult);
  } finally {
    pods.stop();
    endpoints.stop();
  }
}

function killResult(
  { pods }: Follow,
  { victim, replacement, observations, deletedAt }: Seen,
): KillPodResult {
  const timeline = buildTimeline(observations);
  const recoveredAt = observations.find((o) => o.event === 'recovered')?.at;
  const recoverySeconds = recoveredAt !== undefined ? secondsBetween(deletedAt, recoveredAt) : null;
  const node = replacement ? (pods.get(replacement)?.spec?.nodeName ?? null) : null;
  return { killed: victim, replacement: replacement ?? null, node, recoverySeconds, timeline };
}

/** The `--json` document: the result, with the timeline's entries as documented. */
function killJson(result: KillPodResult): Record<string, unknown> {
  const { load: _load, ...kill } = result;
  return {
    ...kill,
    timeline: result.timeline.map((e) => ({
      event: e.event,
      atSeconds: e.atSeconds,
      ...(e.detail ? { detail: e.detail } : {}),
    })),
  };
}

/** With --under-load, the load's part of the `--json` document. */
function loadJson(run: LoadRun, force: boolean): Record<string, unknown> {
  const { report } = run;
  return {
    force,
    load: {
      job: run.jobName,
      ratePerSecond: LOAD_RATE_PER_SECOND,
      requests: report.requests,
      failed: report.failed,
      failedBetweenSeconds: report.failedBetween,
      curlErrors: run.curlErrors,
      victimLastAnswerSeconds: report.victimLastAnswer,
      victimAnswersAfterKill: report.victimAnswersAfterKill,
      pods: report.pods,
      seconds: report.seconds,
    },
  };
}

/** "Back to 5/5 ready", and why the Service lost nothing: the last lines of the timeline. */
function recovered({ plan, ctx, desired }: Follow, seen: Seen, result: KillPodResult): void {
  const { node, recoverySeconds } = result;
  seen.show(
    `Back to ${desired}/${desired} ready in ${recoverySeconds?.toFixed(1) ?? '?'} s; ${seen.replacement ?? 'the replacement'} took the place of ${seen.victim}${node ? ` on ${node}` : ''}.`,
  );
  ctx.printer.line(
    `The ReplicaSet noticed one pod fewer than desired and created a new one at once; the Service stopped sending to the old pod as soon as it ${plan.force ? 'was deleted' : 'began terminating'}.`,
  );
}

function report(f: Follow, seen: Seen, onResult: (result: KillPodResult) => void): KillPodResult {
  const result = killResult(f, seen);
  onResult(result);
  if (f.plan.json) f.ctx.printer.line(JSON.stringify(killJson(result)));
  else recovered(f, seen, result);
  return result;
}

/** The moments of the kill the load's table marks, in seconds from the deletion. */
function loadMarks({ victim, replacement, observations, deletedAt }: Seen): LoadMark[] {
  const at = (event: string) => observations.find((o) => o.event === event)?.at;
  const marks: LoadMark[] = [{ event: 'deleted', atSeconds: 0, pod: victim }];
  const ready = at('ready');
  if (replacement !== undefined && ready !== undefined)
    marks.push({ event: 'ready', atSeconds: (ready - deletedAt) / 1000, pod: replacement });
  const gone = at('old-pod-gone');
  if (gone !== undefined)
    marks.push({ event: 'gone', atSeconds: (gone - deletedAt) / 1000, pod: victim });
  return marks;
}

async function reportUnderLoad(
  f: Follow,
  run: LoadRun,
  onResult: (result: KillPodResult) => void,
): Promise<KillPodResult> {
  const { plan, ctx } = f;
  const result: KillPodResult = {
    ...killResult(f, run.seen),
    load: { ...run.report, job: run.jobName },
  };
  onResult(result);
  if (plan.json)
    ctx.printer.line(JSON.stringify({ ...killJson(result), ...loadJson(run, plan.force) }));
  else {
    ctx.printer.line();
    const paint = await podColours(ctx, run.report.pods);
    const view = {
      report: run.report,
      marks: loadMarks(run.seen),
      victim: run.seen.victim,
      force: plan.force,
      preStopSeconds: run.seen.preStop,
      curlErrors: run.curlErrors,
    };
    const lines = renderLoad(view, ctx.printer.color, { width: ctx.printer.width, paint });
    for (const line of lines) ctx.printer.line(line);
  }
  const loss = gracefulLoss(run.report, plan.force, replicaId(run.seen.victim));
  if (loss !== undefined) throw new OperationError(loss.message, loss.hint);
  return result;
}
