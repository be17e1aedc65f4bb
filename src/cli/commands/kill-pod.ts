import type { Context } from '../context.js';
import { OperationError } from '../errors.js';
import type { KillPodFlags } from '../core/flags.js';
import { planKillPod, type KillPlan } from '../core/blast-plan.js';
import { replicaId } from '../core/curl-log.js';
import {
  buildTimeline,
  secondsBetween,
  type TimelineEntry,
  type TimelineEvent,
} from '../core/timeline.js';
import {
  LOAD_RATE_PER_SECOND,
  gracefulLoss,
  killMode,
  type LoadReport,
} from '../core/under-load.js';
import { describeTarget, noCluster, resolveTarget } from '../target.js';
import { connect } from '../kube/api.js';
import { selectorString } from '../core/pods.js';
import { chooseVictim, deleteAndFollow, type Follow, type Seen } from '../kill/follow.js';
import { killUnderLoad, type LoadRun } from '../kill/under-load.js';
import { podColours } from '../pod-colours.js';
import { renderLoad, type CrashView, type LoadMark } from '../render/under-load.js';

export interface KillPodResult {
  killed: string;
  replacement: string | null;
  node: string | null;
  recoverySeconds: number | null;
  timeline: TimelineEntry[];
  /** With --under-load: what the load saw, per second. */
  load?: LoadReport & { job: string };
  /** With --crash: how the container ended, and when its kubelet acted, from the crash. */
  crash?: CrashResult;
}

export interface CrashResult {
  pod: string;
  exitCode: number | null;
  reason: string | null;
  restartCount: number | null;
  notReadySeconds: number | null;
  leftEndpointsSeconds: number | null;
  restartedSeconds: number | null;
  readyAgainSeconds: number | null;
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

function killResult({ pods }: Follow, seen: Seen): KillPodResult {
  const { victim, replacement, observations, killedAt } = seen;
  const timeline = buildTimeline(observations);
  const recoveredAt = observations.find((o) => o.event === 'recovered')?.at;
  const recoverySeconds = recoveredAt !== undefined ? secondsBetween(killedAt, recoveredAt) : null;
  // After a crash the same pod runs again, on its node.
  const runs = replacement ?? (seen.crash ? victim : undefined);
  const node = runs ? (pods.get(runs)?.spec?.nodeName ?? null) : null;
  return {
    killed: victim,
    replacement: replacement ?? null,
    node,
    recoverySeconds,
    timeline,
    ...(seen.crash ? { crash: crashResult(seen) } : {}),
  };
}

/** Seconds from the kill to `event`, to the millisecond; null if it was not seen. */
function secondsTo({ observations, killedAt }: Seen, event: TimelineEvent): number | null {
  const at = observations.find((o) => o.event === event)?.at;
  return at === undefined ? null : Math.round(at - killedAt) / 1000;
}

function crashResult(seen: Seen): CrashResult {
  const { exitCode = null, reason = null, restartCount = null } = seen.crash ?? {};
  return {
    pod: seen.victim,
    exitCode,
    reason,
    restartCount,
    notReadySeconds: secondsTo(seen, 'not-ready'),
    leftEndpointsSeconds: secondsTo(seen, 'left-endpoints'),
    restartedSeconds: secondsTo(seen, 'restarted'),
    readyAgainSeconds: secondsTo(seen, 'ready-again'),
  };
}

/** The `--json` document: the result, with the timeline's entries as documented. */
function killJson(result: KillPodResult): Record<string, unknown> {
  const { load: _load, crash: _crash, ...kill } = result;
  return {
    ...kill,
    timeline: result.timeline.map((e) => ({
      event: e.event,
      atSeconds: e.atSeconds,
      ...(e.detail ? { detail: e.detail } : {}),
    })),
  };
}

/** With --under-load, the load's part of the `--json` document (and the crash's, if one). */
function loadJson(run: LoadRun, plan: KillPlan, result: KillPodResult): Record<string, unknown> {
  const { report } = run;
  return {
    mode: killMode(plan),
    force: plan.force,
    crash: result.crash ?? null,
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
function recovered(f: Follow, seen: Seen, result: KillPodResult): void {
  const { plan, ctx, desired } = f;
  const { node, recoverySeconds } = result;
  if (result.crash) {
    const { restartCount, notReadySeconds } = result.crash;
    seen.show(
      `Back to ${desired}/${desired} ready in ${recoverySeconds?.toFixed(1) ?? '?'} s; ${seen.victim} runs again in the same pod${node ? ` on ${node}` : ''} (restart count ${restartCount ?? '?'}), and no new pod was made.`,
    );
    ctx.printer.line(
      `Its kubelet noticed the dead container${notReadySeconds !== null ? ` ${Math.round(notReadySeconds * 1000)} ms after the crash` : ''} and marked the pod not Ready, so the Service stopped sending to it; then it restarted the container in place (restartPolicy Always${(restartCount ?? 1) > 1 ? ', after a back-off: it had crashed not long before' : ''}). The ReplicaSet saw no pod missing.`,
    );
    return;
  }
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

/** The moments of a crash the load's table marks, in seconds from it. */
function crashMarks(seen: Seen): LoadMark[] {
  const marks: LoadMark[] = [{ event: 'crashed', atSeconds: 0, pod: seen.victim }];
  for (const event of ['not-ready', 'restarted', 'ready-again'] as const) {
    const at = secondsTo(seen, event);
    if (at !== null) marks.push({ event, atSeconds: at, pod: seen.victim });
  }
  return marks;
}

/** The moments of the kill the load's table marks, in seconds from the deletion. */
function loadMarks(seen: Seen): LoadMark[] {
  if (seen.crash) return crashMarks(seen);
  const { victim, replacement, observations, killedAt } = seen;
  const at = (event: string) => observations.find((o) => o.event === event)?.at;
  const marks: LoadMark[] = [{ event: 'deleted', atSeconds: 0, pod: victim }];
  const ready = at('ready');
  if (replacement !== undefined && ready !== undefined)
    marks.push({ event: 'ready', atSeconds: (ready - killedAt) / 1000, pod: replacement });
  const gone = at('old-pod-gone');
  if (gone !== undefined)
    marks.push({ event: 'gone', atSeconds: (gone - killedAt) / 1000, pod: victim });
  return marks;
}

function crashView({ desired }: Follow, seen: Seen, crash: CrashResult): CrashView {
  return {
    exitCode: crash.exitCode,
    notReadySeconds: crash.notReadySeconds,
    restartedSeconds: crash.restartedSeconds,
    readyAgainSeconds: crash.readyAgainSeconds,
    restartCount: crash.restartCount,
    replicas: desired,
    readiness: seen.crash?.readiness ?? null,
  };
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
    ctx.printer.line(JSON.stringify({ ...killJson(result), ...loadJson(run, plan, result) }));
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
      ...(result.crash ? { crash: crashView(f, run.seen, result.crash) } : {}),
    };
    const lines = renderLoad(view, ctx.printer.color, { width: ctx.printer.width, paint });
    for (const line of lines) ctx.printer.line(line);
  }
  const loss = gracefulLoss(run.report, killMode(plan), replicaId(run.seen.victim));
  if (loss !== undefined) throw new OperationError(loss.message, loss.hint);
  return result;
}
