import type * as k8s from '@kubernetes/client-node';
import type { Context } from '../context.js';
import type { Progress } from '../output.js';
import { ExitCode, InterruptedError, OperationError, StatusExit, TimeoutError } from '../errors.js';
import type { BlastFlags } from '../core/flags.js';
import { BLAST_CONTAINER, blastJobName, deadlineProblem, newRunId } from '../core/blast-job.js';
import { planBlast, type BlastPlan } from '../core/blast-plan.js';
import { parseCurlLog, parseWriteOutLine, type RequestRecord } from '../core/curl-log.js';
import { buildHistogram, type PodInfo } from '../core/histogram.js';
import { SERVICE } from '../core/names.js';
import { evenness, latency } from '../core/stats.js';
import { describeTarget, noCluster, resolveTarget, type Target } from '../target.js';
import { connect, type KubeApi } from '../kube/api.js';
import { runCurlJob } from '../curl-job.js';
import {
  isPodReady,
  pickPortForwardPod,
  podInfo,
  selectorString,
  targetPortFor,
} from '../core/pods.js';
import { sendRequests } from '../http/send-requests.js';
import { rememberBlast, summarizeBlast } from '../last-blast.js';
import { affinityForBlast } from './blast-affinity.js';
import { podColours } from '../pod-colours.js';
import {
  blastJson,
  failureSummary,
  renderBlast,
  type BlastResult,
  type PortForwardResult,
  type ServiceResult,
} from '../render/blast.js';

export type BlastLeg = 'service' | 'port-forward';

/**
 * For a caller that shows the blast as it happens (the dashboard): each leg's pods as it
 * starts, each request as it is answered (best-effort: the Service leg's from its Job's live
 * log), and the result before it is printed, failed requests or not.
 */
export interface BlastWatch {
  onLegStart?: (leg: BlastLeg, pods: PodInfo[], requests: number) => void;
  onRecord?: (leg: BlastLeg, record: RequestRecord) => void;
  onResult?: (result: BlastResult) => void;
}

/**
 * `replica-demo blast`: the Service leg (a curl Job inside the cluster) and the port-forward
 * leg (requests through a tunnel to the one pod kubectl would pick), then one report.
 */
export async function blast(
  opts: BlastFlags,
  ctx: Context,
  watch: BlastWatch = {},
): Promise<BlastResult> {
  const plan = planBlast(opts);
  const target = await resolveTarget(opts, ctx, { detect: true });
  if (target === undefined) throw noCluster();
  ctx.printer.note(describeTarget(target));
  const api = connect(target);
  const result: BlastResult = { count: plan.count, service: null, portForward: null };
  const restore = plan.affinity ? await affinityForBlast(api, plan.affinity, ctx) : undefined;
  try {
    if (plan.via !== 'port-forward')
      result.service = await serviceLeg(plan, target, api, ctx, watch);
    if (plan.via !== 'service' && !ctx.signal.aborted)
      result.portForward = await portForwardLeg(plan, api, ctx, watch);
  } finally {
    await restore?.();
  }
  if (!result.service && !result.portForward) throw new InterruptedError();
  watch.onResult?.(result);
  if (plan.json) ctx.printer.line(JSON.stringify(blastJson(result)));
  else {
    const shown = [result.service, result.portForward].flatMap(
      (leg) => leg?.histogram.rows.map((r) => r.pod) ?? [],
    );
    const paint = await podColours(ctx, shown);
    const lines = renderBlast(result, ctx.printer.color, { width: ctx.printer.width, paint });
    for (const line of lines) ctx.printer.line(line);
  }
  await rememberBlast(ctx, summarizeBlast(result, target, new Date(ctx.now())));
  // Ctrl-C stopped the blast: what was answered is shown, marked partial, and the exit
  // code still says it was interrupted.
  if (ctx.signal.aborted) throw new StatusExit(interruptedLine(result), ExitCode.Interrupted);
  const failed = failureSummary(result);
  if (failed !== undefined) {
    throw new OperationError(
      failed,
      'A pod going away mid-blast causes a few; many mean the Service has no ready pods (`kubectl get endpoints -n <namespace>`).',
    );
  }
  return result;
}

function interruptedLine(result: BlastResult): string {
  const legs = [
    ['the Service', result.service],
    ['port-forward', result.portForward],
  ] as const;
  const done = legs
    .filter(([, leg]) => leg !== null)
    .map(([name, leg]) => `${leg?.histogram.total ?? 0} of ${result.count} through ${name}`);
  return `Interrupted: the results above are partial (${done.join(', ')}).`;
}

/** A leg's last progress line: a tick only when every request was answered. */
function finish(progress: Progress, errors: number, text: string): void {
  if (errors === 0) progress.succeed(text);
  else progress.fail(`${text}, ${errors} failed`);
}

/** A spinner can redraw often; a CI log gets a line every few seconds. */
function progressEveryMs(ctx: Context): number {
  return ctx.printer.interactive ? 250 : 5000;
}

function endpointPods(endpoints: k8s.V1Endpoints | undefined): PodInfo[] {
  return (endpoints?.subsets ?? []).flatMap((subset) =>
    (subset.addresses ?? []).map((a) => ({
      name: a.targetRef?.name ?? a.ip,
      node: a.nodeName ?? '?',
    })),
  );
}

/** The Service's ready pods; none means every request would fail, so the blast stops. */
function readyEndpointPods(endpoints: k8s.V1Endpoints | undefined, namespace: string): PodInfo[] {
  const ready = endpointPods(endpoints);
  if (ready.length === 0) {
    throw new OperationError(
      `Service ${SERVICE} has no ready endpoints, so every request would fail.`,
      `Run \`replica-demo up\` and wait until the pods are ready (\`kubectl get pods -n ${namespace}\`).`,
    );
  }
  return ready;
}

async function servicePods(api: KubeApi, service: k8s.V1Service): Promise<k8s.V1Pod[]> {
  const labelSelector = selectorString(service.spec?.selector);
  if (labelSelector === '') {
    throw new OperationError(
      `Service ${SERVICE} has no selector, so no pods belong to it.`,
      'Run `replica-demo up` to restore it.',
    );
  }
  return api.listPods({ labelSelector });
}

/**
 * Lines counted from the live log, for a "1234/20000" progress on big blasts, each request
 * handed to `onRecord` as its line arrives; best-effort.
 */
function countLogLines(
  api: KubeApi,
  pod: string,
  ctx: Context,
  show: (lines: number) => void,
  onRecord?: (record: RequestRecord) => void,
): Promise<{ stop(): void } | undefined> {
  let lines = 0;
  let shown = ctx.now();
  let partial = '';
  return api
    .followPodLog(pod, BLAST_CONTAINER, (text) => {
      const complete = (partial + text).split('\n');
      partial = complete.pop() ?? '';
      lines += complete.length;
      if (onRecord) {
        for (const line of complete) {
          const record = parseWriteOutLine(line.replace(/\r$/, ''));
          if (record) onRecord(record);
        }
      }
      if (ctx.now() - shown < progressEveryMs(ctx)) return;
      shown = ctx.now();
      show(lines);
    })
    .catch(() => undefined);
}

async function serviceLeg(
  plan: BlastPlan,
  target: Target,
  api: KubeApi,
  ctx: Context,
  watch: BlastWatch,
): Promise<ServiceResult> {
  const [service, endpoints, proxyMode] = await Promise.all([
    api.readService(),
    api.readServiceEndpoints(),
    api.proxyMode(),
  ]);
  const ready = readyEndpointPods(endpoints, api.namespace);
  const known = (await servicePods(api, service)).map(podInfo);
  watch.onLegStart?.('service', ready, plan.count);
  const runId = newRunId(ctx.random);
  const jobName = blastJobName(runId);
  const started = ctx.now();
  const seconds = () => ((ctx.now() - started) / 1000).toFixed(1);
  const progress = ctx.printer.progress(
    `Service: Job ${jobName} sends ${plan.count} request${plan.count === 1 ? '' : 's'} to ${SERVICE} from inside the cluster`,
  );
  let follow: Promise<{ stop(): void } | undefined> | undefined;
  const followLog = (pod: string) => {
    progress.count('Service', 0, plan.count);
    const onRecord = watch.onRecord;
    return countLogLines(
      api,
      pod,
      ctx,
      (lines) => progress.count('Service', lines, plan.count),
      onRecord ? (record) => onRecord('service', record) : undefined,
    );
  };
  let run;
  try {
    run = await runCurlJob(api, ctx, {
      plan,
      runId,
      target,
      onPod: (pod) => {
        const phase = pod.status?.phase ?? 'Pending';
        progress.update(`Service: pod ${pod.metadata?.name ?? '?'} ${phase} (${seconds()} s)`);
        if (phase === 'Running' && follow === undefined)
          follow = followLog(pod.metadata?.name ?? '');
      },
    });
  } catch (error) {
    progress.stop();
    throw error;
  } finally {
    void follow?.then((f) => f?.stop());
  }
  const { outcome } = run;
  if (outcome.state === 'complete' && run.logError) throw run.logError;
  const parsed = parseCurlLog(run.log);
  if (outcome.state === 'failed' && outcome.reason === 'DeadlineExceeded') {
    progress.fail(`Service: Job ${jobName} ran past its deadline`);
    const problem = deadlineProblem(plan.timeoutSeconds, parsed.records.length, plan.count);
    throw new TimeoutError(problem.message, problem.hint);
  }
  const interrupted = outcome.state === 'interrupted';
  if (interrupted && parsed.records.length === 0) throw new InterruptedError();
  if (parsed.records.length === 0) {
    progress.fail(`Service: Job ${jobName} ${outcome.state}`);
    const clue =
      parsed.unparsed[0] ?? (outcome.state === 'failed' ? outcome.message : 'an empty log');
    throw new OperationError(
      `The blast Job ${outcome.state === 'failed' ? `failed (${outcome.reason})` : 'finished'} without reporting any request: ${clue}`,
    );
  }
  const sent = interrupted ? parsed.records.length : plan.count;
  const histogram = buildHistogram(parsed.records, ready, known, sent);
  const summary = `Service: ${parsed.records.length} requests in ${seconds()} s (Job ${jobName}, ${run.podsCreated} pod)`;
  if (interrupted) progress.fail(`${summary}, stopped by Ctrl-C`);
  else finish(progress, histogram.errors, summary);
  return {
    ...(interrupted ? { partial: { requested: plan.count } } : {}),
    histogram,
    latencyMs: latency(parsed.records),
    evenness: evenness(histogram),
    curlErrors: parsed.errors,
    keepAlive: plan.keepAlive,
    parallel: plan.parallel,
    jobName,
    podsCreated: run.podsCreated,
    sessionAffinity: service.spec?.sessionAffinity ?? 'None',
    proxyMode,
  };
}

async function portForwardLeg(
  plan: BlastPlan,
  api: KubeApi,
  ctx: Context,
  watch: BlastWatch,
): Promise<PortForwardResult | null> {
  const service = await api.readService();
  const pods = await servicePods(api, service);
  const choice = pickPortForwardPod(pods);
  if (!choice) {
    throw new OperationError(
      `No pods match Service ${SERVICE}, so there is nothing to port-forward to.`,
      'Run `replica-demo up` first.',
    );
  }
  const pod = choice.pod;
  const name = pod.metadata?.name ?? '?';
  if (pod.status?.phase !== 'Running') {
    throw new OperationError(
      `kubectl port-forward would pick pod ${name}, but it is ${pod.status?.phase ?? 'not running'}.`,
      'Wait until the pods are running (`replica-demo up` waits for that).',
    );
  }
  const port = targetPortFor(service, pod);
  if (!plan.json) {
    ctx.printer.note(
      `Port-forward: \`kubectl port-forward svc/${SERVICE}\` would pick pod ${name}: ${choice.reason}.`,
    );
  }
  const ready = pods.filter((p) => isPodReady(p) && !p.metadata?.deletionTimestamp).map(podInfo);
  watch.onLegStart?.('port-forward', ready, plan.count);
  const onRecord = watch.onRecord;
  const progress = ctx.printer.progress(
    `Port-forward: ${plan.count} requests through a tunnel to ${name}:${port}`,
  );
  const started = ctx.now();
  const tunnel = await api.openTunnel(name, port).catch((error: unknown) => {
    progress.stop();
    throw error;
  });
  // --timeout bounds this leg too; Ctrl-C and the deadline are told apart afterwards.
  const deadline = AbortSignal.timeout(plan.timeoutSeconds * 1000);
  let sent;
  try {
    progress.count('Port-forward', 0, plan.count);
    sent = await sendRequests(
      tunnel.host,
      tunnel.port,
      plan,
      AbortSignal.any([ctx.signal, deadline]),
      (done) => progress.count('Port-forward', done, plan.count),
      progressEveryMs(ctx),
      onRecord ? (record) => onRecord('port-forward', record) : undefined,
    );
  } catch (error) {
    progress.stop();
    throw error;
  } finally {
    await tunnel.close();
  }
  const { records, errors } = sent;
  const interrupted = sent.stopped && ctx.signal.aborted;
  if (sent.stopped && !interrupted) {
    progress.stop();
    throw new TimeoutError(
      `The port-forward blast ran past --timeout ${plan.timeoutSeconds} s before sending ${plan.count} requests.`,
      'Raise --timeout, lower --count, or add --parallel.',
    );
  }
  if (interrupted && records.length === 0) {
    progress.stop();
    return null;
  }
  const tunnelErrors = tunnel.errors();
  if (tunnelErrors.length > 0) {
    errors.push({
      code: 0,
      message: `port-forward: ${tunnelErrors[0] ?? ''}`,
      count: tunnelErrors.length,
    });
  }
  const histogram = buildHistogram(
    records,
    ready,
    pods.map(podInfo),
    interrupted ? records.length : plan.count,
  );
  const summary = `Port-forward: ${records.length} requests in ${((ctx.now() - started) / 1000).toFixed(1)} s to ${name}`;
  if (interrupted) progress.fail(`${summary}, stopped by Ctrl-C`);
  else finish(progress, histogram.errors, summary);
  return {
    ...(interrupted ? { partial: { requested: plan.count } } : {}),
    pod: name,
    reason: choice.reason,
    histogram,
    latencyMs: latency(records),
    evenness: evenness(histogram),
    curlErrors: errors,
  };
}
