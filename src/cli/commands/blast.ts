import type * as k8s from '@kubernetes/client-node';
import http from 'node:http';
import type { Context } from '../context.js';
import { InterruptedError, OperationError, ReplicaDemoError, TimeoutError } from '../errors.js';
import type { RawOptions } from '../core/options.js';
import {
  BLAST_CONTAINER,
  RUN_ID_LABEL,
  blastJob,
  blastJobName,
  deadlineProblem,
  failedCreateProblem,
  imagePullProblem,
  newRunId,
} from '../core/blast-job.js';
import { planBlast, type BlastPlan } from '../core/blast-plan.js';
import { parseCurlLog, type CurlError, type RequestRecord } from '../core/curl-log.js';
import { buildHistogram, type PodInfo } from '../core/histogram.js';
import { SERVICE, SERVICE_PORT } from '../core/names.js';
import { evenness, latency } from '../core/stats.js';
import { describeTarget, resolveTarget, type Target } from '../target.js';
import {
  apiErrorMessage,
  isNotFound,
  kubeClients,
  lessonReadError,
  type KubeClients,
} from '../kube/client.js';
import { createJob, deleteJob, jobOutcome, type JobOutcome } from '../kube/jobs.js';
import { followPodLog, readPodLog } from '../kube/logs.js';
import {
  isPodReady,
  pickPortForwardPod,
  podInfo,
  selectorString,
  waitingReason,
} from '../kube/pods.js';
import { openTunnel } from '../kube/port-forward.js';
import { eventsPath, follow, jobsPath, podsPath, waitFor } from '../kube/watch.js';
import {
  blastJson,
  failureSummary,
  renderPortForward,
  renderService,
  type BlastResult,
  type PortForwardResult,
  type ServiceResult,
} from '../render/blast.js';

/** `replica-demo blast`: fill in, validate, run, print; the result is returned for tests and the tour. */
export async function blast(opts: RawOptions, ctx: Context): Promise<BlastResult> {
  const plan = planBlast(opts);
  const target = await resolveTarget(opts, ctx);
  ctx.printer.note(describeTarget(target));
  const clients = kubeClients(target);
  const result = await runBlast(plan, target, clients, ctx);
  if (plan.json) ctx.printer.line(JSON.stringify(blastJson(result)));
  failOnErrors(result);
  return result;
}

export async function runBlast(
  plan: BlastPlan,
  target: Target,
  clients: KubeClients,
  ctx: Context,
): Promise<BlastResult> {
  const result: BlastResult = { count: plan.count, service: null, portForward: null };
  const print = (lines: string[]) => {
    if (plan.json) return;
    for (const line of lines) ctx.printer.line(line);
  };
  if (plan.via !== 'port-forward') {
    result.service = await servicePath(plan, target, clients, ctx);
    print(renderService(result.service, ctx.printer.color));
  }
  if (plan.via !== 'service') {
    if (result.service) print(['']);
    result.portForward = await portForwardPath(plan, target.namespace, clients, ctx);
    print(renderPortForward(result.portForward, ctx.printer.color));
  }
  return result;
}

function failOnErrors(result: BlastResult): void {
  const failed = failureSummary(result);
  if (failed !== undefined) {
    throw new OperationError(
      failed,
      'A pod going away mid-blast causes a few; many mean the Service has no ready pods (`kubectl get endpoints -n <namespace>`).',
    );
  }
}

async function readService(core: k8s.CoreV1Api, namespace: string): Promise<k8s.V1Service> {
  try {
    return await core.readNamespacedService({ name: SERVICE, namespace });
  } catch (error) {
    throw lessonReadError(error, `Service ${SERVICE}`, namespace);
  }
}

async function readyEndpoints(core: k8s.CoreV1Api, namespace: string): Promise<PodInfo[]> {
  let endpoints: k8s.V1Endpoints;
  try {
    endpoints = await core.readNamespacedEndpoints({ name: SERVICE, namespace });
  } catch (error) {
    if (isNotFound(error)) return [];
    throw new OperationError(`Could not read the Service's endpoints: ${apiErrorMessage(error)}`);
  }
  const pods: PodInfo[] = [];
  for (const subset of endpoints.subsets ?? []) {
    for (const address of subset.addresses ?? []) {
      pods.push({ name: address.targetRef?.name ?? address.ip, node: address.nodeName ?? '?' });
    }
  }
  return pods;
}

async function listServicePods(
  core: k8s.CoreV1Api,
  namespace: string,
  service: k8s.V1Service,
): Promise<k8s.V1Pod[]> {
  const labelSelector = selectorString(service.spec?.selector);
  if (labelSelector === '') {
    throw new OperationError(
      `Service ${SERVICE} has no selector, so no pods belong to it.`,
      'Run `replica-demo up` to restore it.',
    );
  }
  const list = await core.listNamespacedPod({ namespace, labelSelector });
  return list.items;
}

/** A spinner can redraw often; a CI log gets a line every few seconds. */
function progressEveryMs(ctx: Context): number {
  return ctx.printer.interactive ? 500 : 5000;
}

/** Settles once; used to let any of several watches end the wait with an error. */
function failFast(): { promise: Promise<never>; fail(error: Error): void } {
  let fail: (error: Error) => void = () => undefined;
  const promise = new Promise<never>((_, reject) => {
    fail = reject;
  });
  promise.catch(() => undefined);
  return { promise, fail };
}

async function servicePath(
  plan: BlastPlan,
  target: Target,
  clients: KubeClients,
  ctx: Context,
): Promise<ServiceResult> {
  const { core, batch, kc } = clients;
  const namespace = target.namespace;
  const service = await readService(core, namespace);
  const ready = await readyEndpoints(core, namespace);
  if (ready.length === 0) {
    throw new OperationError(
      `Service ${SERVICE} has no ready endpoints, so every request would fail.`,
      `Run \`replica-demo up\` and wait until the pods are ready (\`kubectl get pods -n ${namespace}\`).`,
    );
  }
  const known = (await listServicePods(core, namespace, service)).map(podInfo);

  const runId = newRunId(ctx.random);
  const jobName = blastJobName(runId);
  const job = blastJob({ plan, namespace, runId });
  const progress = ctx.printer.progress(
    `Service: Job ${jobName} sends ${plan.count} request${plan.count === 1 ? '' : 's'} to ${SERVICE} from inside the cluster`,
  );
  const started = ctx.now();
  const podUids = new Set<string>();
  let podName: string | undefined;
  const stop = failFast();
  // Lines counted from the live log, for a "1234/100000" progress on big blasts.
  let logFollow: Promise<{ stop(): void } | undefined> | undefined;
  const followProgress = (pod: string) => {
    let lines = 0;
    let lastShown = ctx.now();
    return followPodLog(kc, namespace, pod, BLAST_CONTAINER, (text) => {
      for (const ch of text) if (ch === '\n') lines += 1;
      if (ctx.now() - lastShown >= progressEveryMs(ctx)) {
        lastShown = ctx.now();
        progress.update(
          `Service: ${lines}/${plan.count} requests (${((ctx.now() - started) / 1000).toFixed(0)} s)`,
        );
      }
    }).catch(() => undefined);
  };

  const podWatch = follow<k8s.V1Pod>(
    kc,
    podsPath(namespace),
    { labelSelector: `${RUN_ID_LABEL}=${runId}` },
    (type, pod) => {
      if (type === 'ERROR' || !pod.metadata?.name) return;
      if (pod.metadata.uid) podUids.add(pod.metadata.uid);
      podName = pod.metadata.name;
      const waiting = waitingReason(pod);
      const pull =
        waiting &&
        imagePullProblem(waiting, {
          mode: target.mode,
          ...(target.cluster ? { name: target.cluster } : {}),
        });
      if (pull) {
        stop.fail(new OperationError(pull.message, pull.hint));
        return;
      }
      const phase = pod.status?.phase ?? 'Pending';
      const seconds = ((ctx.now() - started) / 1000).toFixed(1);
      progress.update(`Service: pod ${pod.metadata.name} ${phase} (${seconds} s)`);
      if (phase === 'Running' && logFollow === undefined) {
        logFollow = followProgress(pod.metadata.name);
      }
    },
  );
  const eventWatch = follow<k8s.CoreV1Event>(kc, eventsPath(namespace), {}, (type, event) => {
    if (type === 'DELETED' || event.involvedObject?.name !== jobName) return;
    if (event.reason !== 'FailedCreate') return;
    const problem = failedCreateProblem(event.message ?? '', namespace);
    stop.fail(new OperationError(problem.message, problem.hint));
  });

  let created = false;
  let outcome: JobOutcome;
  try {
    try {
      await createJob(batch, job);
      created = true;
    } catch (error) {
      throw new OperationError(`Could not create the blast Job: ${apiErrorMessage(error)}`);
    }
    outcome = await Promise.race([
      stop.promise,
      waitFor<k8s.V1Job, JobOutcome>(
        kc,
        jobsPath(namespace),
        { labelSelector: `${RUN_ID_LABEL}=${runId}` },
        (type, seen) => {
          if (seen.metadata?.name !== jobName) return undefined;
          if (type === 'DELETED') {
            throw new OperationError(`The blast Job ${jobName} was deleted before it finished.`);
          }
          return jobOutcome(seen);
        },
        {
          signal: ctx.signal,
          // The Job's own deadline comes first; this only guards against a Job that never reports.
          timeoutMs: (plan.timeoutSeconds + 30) * 1000,
          what: `Job ${jobName} to finish`,
          timeoutFlag: '--timeout',
        },
      ),
    ]);

    if (podName === undefined) {
      // The pod watch missed it (a dropped watch): ask once.
      const list = await core.listNamespacedPod({
        namespace,
        labelSelector: `${RUN_ID_LABEL}=${runId}`,
      });
      for (const pod of list.items) if (pod.metadata?.uid) podUids.add(pod.metadata.uid);
      podName = list.items[0]?.metadata?.name;
    }
    let log = '';
    if (podName !== undefined) {
      try {
        log = await readPodLog(core, namespace, podName, BLAST_CONTAINER);
      } catch (error) {
        if (outcome.state === 'complete') {
          throw new OperationError(`Could not read the blast pod's log: ${apiErrorMessage(error)}`);
        }
      }
    }
    const parsed = parseCurlLog(log);
    if (outcome.state === 'failed' && outcome.reason === 'DeadlineExceeded') {
      progress.fail(`Service: Job ${jobName} ran past its deadline`);
      const problem = deadlineProblem(plan.timeoutSeconds, parsed.records.length, plan.count);
      throw new TimeoutError(problem.message, problem.hint);
    }
    if (parsed.records.length === 0) {
      progress.fail(`Service: Job ${jobName} ${outcome.state}`);
      const clue =
        parsed.unparsed[0] ?? (outcome.state === 'failed' ? outcome.message : 'an empty log');
      throw new OperationError(
        `The blast Job ${outcome.state === 'failed' ? `failed (${outcome.reason})` : 'finished'} without reporting any request: ${clue}`,
      );
    }
    const histogram = buildHistogram(parsed.records, ready, known, plan.count);
    progress.succeed(
      `Service: ${parsed.records.length} requests in ${((ctx.now() - started) / 1000).toFixed(1)} s (Job ${jobName}, ${podUids.size} pod)`,
    );
    return {
      histogram,
      latencyMs: latency(parsed.records),
      evenness: evenness(histogram),
      curlErrors: parsed.errors,
      keepAlive: plan.keepAlive,
      parallel: plan.parallel,
      jobName,
      podsCreated: podUids.size,
      sessionAffinity: service.spec?.sessionAffinity ?? 'None',
    };
  } catch (error) {
    progress.stop();
    throw error;
  } finally {
    void logFollow?.then((f) => f?.stop());
    eventWatch.stop();
    if (created) await removeJob(clients, namespace, jobName, runId, ctx);
    podWatch.stop();
  }
}

/**
 * Deletes the Job with its pod and waits (briefly) until the pod is gone, so nothing of the
 * blast outlives the command, Ctrl-C included.
 */
async function removeJob(
  clients: KubeClients,
  namespace: string,
  jobName: string,
  runId: string,
  ctx: Context,
): Promise<void> {
  try {
    await deleteJob(clients.batch, namespace, jobName);
  } catch (error) {
    if (!isNotFound(error)) {
      ctx.printer.note(
        `Could not delete Job ${jobName}: ${apiErrorMessage(error)}. Delete it with \`kubectl delete job ${jobName} -n ${namespace} --cascade=background\`.`,
      );
      return;
    }
  }
  const labelSelector = `${RUN_ID_LABEL}=${runId}`;
  try {
    const list = await clients.core.listNamespacedPod({ namespace, labelSelector });
    const left = new Set(list.items.map((p) => p.metadata?.name ?? ''));
    if (left.size > 0) {
      await waitFor<k8s.V1Pod, true>(
        clients.kc,
        podsPath(namespace),
        {
          labelSelector,
          ...(list.metadata?.resourceVersion
            ? { resourceVersion: list.metadata.resourceVersion }
            : {}),
        },
        (type, pod) => {
          if (type === 'DELETED') left.delete(pod.metadata?.name ?? '');
          return left.size === 0 ? true : undefined;
        },
        // A fresh signal: the user's Ctrl-C must not cut short the cleanup it asked for.
        { signal: new AbortController().signal, timeoutMs: 20_000, what: `the blast pod to go` },
      );
    }
    if (ctx.signal.aborted) {
      ctx.printer.note(
        `Stopped: deleted Job ${jobName} and its pod; nothing of the blast is left.`,
      );
    }
  } catch (error) {
    ctx.printer.note(
      `Job ${jobName} is deleted; its pod may still be shutting down (${error instanceof ReplicaDemoError ? error.message : apiErrorMessage(error)}).`,
    );
  }
}

function targetPortFor(service: k8s.V1Service, pod: k8s.V1Pod): number {
  const ports = service.spec?.ports ?? [];
  const port = ports.find((p) => p.port === SERVICE_PORT) ?? ports[0];
  const targetPort: unknown = port?.targetPort ?? port?.port;
  if (typeof targetPort === 'number') return targetPort;
  if (typeof targetPort === 'string' && /^\d+$/.test(targetPort)) return Number(targetPort);
  // A named targetPort is looked up in the chosen pod, as kubectl does.
  for (const container of pod.spec?.containers ?? []) {
    for (const p of container.ports ?? []) {
      if (p.name === targetPort) return p.containerPort;
    }
  }
  throw new OperationError(
    `Service ${SERVICE} points at port "${String(targetPort)}", which pod ${pod.metadata?.name ?? '?'} does not declare.`,
  );
}

async function portForwardPath(
  plan: BlastPlan,
  namespace: string,
  clients: KubeClients,
  ctx: Context,
): Promise<PortForwardResult> {
  const service = await readService(clients.core, namespace);
  const pods = await listServicePods(clients.core, namespace, service);
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
  const known = pods.map(podInfo);

  const progress = ctx.printer.progress(
    `Port-forward: ${plan.count} requests through a tunnel to ${name}:${port}`,
  );
  const started = ctx.now();
  const tunnel = await openTunnel(clients.kc, namespace, name, port);
  let records: RequestRecord[];
  let errors: CurlError[];
  try {
    // --timeout bounds this path too; Ctrl-C and the deadline are told apart afterwards.
    const deadline = AbortSignal.timeout(plan.timeoutSeconds * 1000);
    const sent = await sendRequests(
      tunnel.host,
      tunnel.port,
      plan,
      AbortSignal.any([ctx.signal, deadline]),
      (done) => progress.update(`Port-forward: ${done}/${plan.count} requests to ${name}`),
      progressEveryMs(ctx),
    ).catch((error: unknown) => {
      if (error instanceof InterruptedError && !ctx.signal.aborted && deadline.aborted) {
        throw new TimeoutError(
          `The port-forward blast ran past --timeout ${plan.timeoutSeconds} s before sending ${plan.count} requests.`,
          'Raise --timeout, lower --count, or add --parallel.',
        );
      }
      throw error;
    });
    ({ records, errors } = sent);
  } catch (error) {
    progress.stop();
    throw error;
  } finally {
    await tunnel.close();
  }
  const tunnelErrors = tunnel.errors();
  if (tunnelErrors.length > 0) {
    errors.push({
      code: 0,
      message: `port-forward: ${tunnelErrors[0] ?? ''}`,
      count: tunnelErrors.length,
    });
  }
  progress.succeed(
    `Port-forward: ${records.length} requests in ${((ctx.now() - started) / 1000).toFixed(1)} s to ${name}`,
  );
  const histogram = buildHistogram(records, ready, known, plan.count);
  return {
    pod: name,
    reason: choice.reason,
    histogram,
    latencyMs: latency(records),
    evenness: evenness(histogram),
    curlErrors: errors,
  };
}

const REQUEST_TIMEOUT_MS = 10_000;

/**
 * N requests from this process, a new TCP connection each (no keep-alive), `parallel` at a
 * time; records look like the Job's so both paths share the histogram and statistics.
 */
export async function sendRequests(
  host: string,
  port: number,
  plan: Pick<BlastPlan, 'count' | 'parallel'>,
  signal: AbortSignal,
  onProgress: (done: number) => void = () => undefined,
  progressEvery = 1000,
): Promise<{ records: RequestRecord[]; errors: CurlError[] }> {
  const records: RequestRecord[] = [];
  const errors = new Map<string, CurlError>();
  let next = 1;
  let lastReport = Date.now();
  const one = (n: number) =>
    new Promise<RequestRecord>((resolve) => {
      const t0 = process.hrtime.bigint();
      const seconds = () => Number(process.hrtime.bigint() - t0) / 1e9;
      const req = http.get(
        {
          host,
          port,
          path: `/?n=${n}`,
          // No pooling agent: a pooled socket would be handed to the next queued request
          // even with keepAlive off. A fresh connection per request, closed by both ends.
          agent: false,
          headers: { Host: SERVICE, Connection: 'close' },
          timeout: REQUEST_TIMEOUT_MS,
          signal,
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const header = res.headers['x-pod-name'];
            const pod = Array.isArray(header) ? header[0] : header;
            const status = res.statusCode ?? 0;
            resolve(pod ? { status, seconds: seconds(), pod } : { status, seconds: seconds() });
          });
          res.on('error', () => resolve({ status: 0, seconds: seconds() }));
        },
      );
      req.on('timeout', () =>
        req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)),
      );
      req.on('error', (error: NodeJS.ErrnoException) => {
        const message = `${error.code ? `${error.code}: ` : ''}${error.message}`;
        const seen = errors.get(message);
        if (seen) seen.count += 1;
        else errors.set(message, { code: 0, message, count: 1 });
        resolve({ status: 0, seconds: seconds() });
      });
    });
  const worker = async () => {
    while (next <= plan.count && !signal.aborted) {
      const n = next;
      next += 1;
      records.push(await one(n));
      if (Date.now() - lastReport >= progressEvery) {
        lastReport = Date.now();
        onProgress(records.length);
      }
    }
  };
  await Promise.all(Array.from({ length: plan.parallel }, () => worker()));
  if (signal.aborted) throw new InterruptedError();
  return { records, errors: [...errors.values()].sort((a, b) => b.count - a.count) };
}
