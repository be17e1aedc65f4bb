import type * as k8s from '@kubernetes/client-node';
import type { Context } from '../context.js';
import { assignColours } from '../core/colours.js';
import { rememberColours, rememberedColours } from '../pod-colours.js';
import { paintNames, podPainter } from '../render/colours.js';
import { InterruptedError, OperationError, TimeoutError, UsageError } from '../errors.js';
import type { KillPodFlags } from '../core/flags.js';
import { pickOne, planKillPod, seededRandom, type KillPlan } from '../core/blast-plan.js';
import { DEPLOYMENT, SERVICE } from '../core/names.js';
import {
  buildTimeline,
  describe,
  secondsBetween,
  type Observation,
  type TimelineEntry,
  type TimelineEvent,
} from '../core/timeline.js';
import { describeTarget, noCluster, resolveTarget } from '../target.js';
import { connect, type KubeApi } from '../kube/api.js';
import { waitUntil, type Informer } from '../kube/informer.js';
import { isPodReady, selectorString } from '../core/pods.js';

export interface KillPodResult {
  killed: string;
  replacement: string | null;
  node: string | null;
  recoverySeconds: number | null;
  timeline: TimelineEntry[];
}

function endpointPodNames(endpoints: k8s.V1Endpoints | undefined): Set<string> {
  const names = new Set<string>();
  for (const subset of endpoints?.subsets ?? []) {
    for (const address of subset.addresses ?? []) {
      if (address.targetRef?.name) names.add(address.targetRef.name);
    }
  }
  return names;
}

/** The seconds a container's preStop `sleep` waits, if it has one. */
function preStopSeconds(pod: k8s.V1Pod | undefined): number | undefined {
  for (const container of pod?.spec?.containers ?? []) {
    const seconds = container.lifecycle?.preStop?.sleep?.seconds;
    if (typeof seconds === 'number') return seconds;
  }
  return undefined;
}

function containerStarted(pod: k8s.V1Pod): boolean {
  return (pod.status?.containerStatuses ?? []).some(
    (c) => c.started === true || c.state?.running !== undefined,
  );
}

/** `replica-demo kill-pod`: delete one replica and follow, by watch, how it is replaced. */
export async function killPod(opts: KillPodFlags, ctx: Context): Promise<KillPodResult> {
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
    return await killAndFollow({ plan, ctx, namespace, desired, api, pods, endpoints });
  } finally {
    pods.stop();
    endpoints.stop();
  }
}

interface Follow {
  plan: KillPlan;
  ctx: Context;
  namespace: string;
  desired: number;
  api: KubeApi;
  pods: Informer<k8s.V1Pod>;
  endpoints: Informer<k8s.V1Endpoints>;
}

function chooseVictim({ plan, ctx, namespace, desired, pods }: Follow): string {
  const live = pods.list().filter((p) => !p.metadata?.deletionTimestamp);
  const names = live.map((p) => p.metadata?.name ?? '').filter((n) => n !== '');
  const readyNames = live.filter(isPodReady).map((p) => p.metadata?.name ?? '');
  if (readyNames.length < desired) {
    ctx.printer.note(
      `Note: only ${readyNames.length} of ${desired} pods are ready before the kill; recovery is timed until ${desired}/${desired} are ready.`,
    );
  }
  if (plan.pod !== undefined) {
    if (!names.includes(plan.pod)) {
      throw new UsageError(
        `--pod ${plan.pod} is not a pod of ${DEPLOYMENT} in ${namespace}; valid names: ${names.sort().join(', ') || '(none)'}.`,
      );
    }
    return plan.pod;
  }
  const random = plan.seed !== undefined ? seededRandom(plan.seed) : ctx.random;
  // Sorted, so a seed picks the same pod whatever order the API listed them in.
  const chosen = pickOne(readyNames.sort(), random);
  if (chosen === undefined) {
    throw new OperationError(
      `No pod of ${DEPLOYMENT} is ready, so there is no ready pod to kill.`,
      'Run `replica-demo up` and wait for the pods, or name one with --pod.',
    );
  }
  return chosen;
}

async function killAndFollow(f: Follow): Promise<KillPodResult> {
  const { plan, ctx, namespace, desired, api, pods, endpoints } = f;
  const victim = chooseVictim(f);
  const initial = new Set(pods.list().map((p) => p.metadata?.name ?? ''));
  // Each pod in the colour it had in blast's histogram; the replacement gets its own.
  let colours = assignColours(await rememberedColours(ctx.home), [...initial]);
  let replacement: string | undefined;
  const show = (text: string) => {
    const paint = podPainter(ctx.printer.color, colours);
    const named = replacement === undefined ? [victim] : [victim, replacement];
    ctx.printer.line(paintNames(text, named, paint));
  };
  if (!plan.json) {
    show(`Killing ${victim}; following the ReplicaSet as it replaces it:`);
    show(`  + 0.00 s  ${describe('deleted', victim)}`);
  }
  // The clock starts as the request leaves (nothing runs between here and the delete call,
  // so every watch event that follows is measured from it).
  const deletedAt = ctx.now();
  const observations: Observation[] = [{ event: 'deleted', at: deletedAt, detail: victim }];
  const observe = (event: TimelineEvent, detail?: string) => {
    if (observations.some((o) => o.event === event)) return;
    const o: Observation = { event, at: ctx.now(), ...(detail !== undefined ? { detail } : {}) };
    observations.push(o);
    if (!plan.json) {
      // Hundredths on screen: several steps happen within the first second.
      const seconds = ((o.at - deletedAt) / 1000).toFixed(2).padStart(5);
      show(`  +${seconds} s  ${describe(event, detail)}`);
    }
  };
  const preStop = preStopSeconds(pods.get(victim));
  const explainPreStop = (grace: number | undefined) => {
    if (plan.json || preStop === undefined) return;
    ctx.printer.line(
      grace !== undefined && grace <= preStop
        ? `             its preStop hook would wait ${preStop} s before SIGTERM, but the ${grace} s grace period ends first`
        : `             its preStop hook waits ${preStop} s before SIGTERM, so every node stops sending to it first`,
    );
  };
  const seen = (event: TimelineEvent) => observations.some((o) => o.event === event);

  let inEndpoints = endpointPodNames(endpoints.get(SERVICE)).has(victim);
  endpoints.onChange((change, object) => {
    if (object.metadata?.name !== SERVICE || change === 'delete') return;
    const present = endpointPodNames(object).has(victim);
    if (inEndpoints && !present) observe('left-endpoints');
    inEndpoints = present;
  });
  pods.onChange((change, pod) => {
    const name = pod.metadata?.name ?? '';
    if (name === victim) {
      if (change === 'delete') observe('old-pod-gone');
      else if (pod.metadata?.deletionTimestamp) {
        const grace = pod.metadata.deletionGracePeriodSeconds;
        if (!seen('terminating')) {
          observe('terminating', grace !== undefined ? `grace period ${grace} s` : undefined);
          explainPreStop(grace);
        }
      }
    } else if (!initial.has(name) && change !== 'delete') {
      if (replacement === undefined) {
        replacement = name;
        colours = assignColours(colours, [...initial, name]);
        observe('replacement-created', name);
      }
      if (name === replacement) {
        if (pod.spec?.nodeName) observe('scheduled', pod.spec.nodeName);
        if (containerStarted(pod)) observe('started');
        if (isPodReady(pod)) observe('ready');
      }
    }
  });
  const readyCount = () =>
    pods.list().filter((p) => !p.metadata?.deletionTimestamp && isPodReady(p)).length;

  await api.deletePod(victim, plan.graceSeconds);
  await waitUntil(
    [pods, endpoints],
    () => {
      if (seen('ready') && readyCount() >= desired) observe('recovered', `${desired}/${desired}`);
      return seen('old-pod-gone') && seen('recovered') ? true : undefined;
    },
    {
      signal: ctx.signal,
      timeoutMs: plan.timeoutSeconds * 1000,
      onTimeout: () =>
        new TimeoutError(
          `Gave up waiting for ${DEPLOYMENT} to be back to ${desired}/${desired} ready after ${plan.timeoutSeconds} s.`,
          'Raise --timeout to wait longer.',
        ),
      onAbort: () =>
        new InterruptedError(
          `Interrupted while following the replacement: ${victim} was deleted, and the ReplicaSet replaces it on its own (\`kubectl get pods -n ${namespace}\`).`,
        ),
    },
  );
  const live = pods.list().map((p) => p.metadata?.name ?? '');
  await rememberColours(ctx.home, assignColours(colours, live));
  return report(f, { victim, replacement, observations, deletedAt, show });
}

interface Seen {
  victim: string;
  replacement: string | undefined;
  observations: Observation[];
  deletedAt: number;
  /** Prints a line with the pods in their colours. */
  show: (text: string) => void;
}

function report(
  { plan, ctx, desired, pods }: Follow,
  { victim, replacement, observations, deletedAt, show }: Seen,
): KillPodResult {
  const timeline = buildTimeline(observations);
  const recoveredAt = observations.find((o) => o.event === 'recovered')?.at;
  const recoverySeconds = recoveredAt !== undefined ? secondsBetween(deletedAt, recoveredAt) : null;
  const node = replacement ? (pods.get(replacement)?.spec?.nodeName ?? null) : null;
  const result: KillPodResult = {
    killed: victim,
    replacement: replacement ?? null,
    node,
    recoverySeconds,
    timeline,
  };
  if (plan.json) {
    ctx.printer.line(
      JSON.stringify({
        ...result,
        timeline: timeline.map((e) => ({
          event: e.event,
          atSeconds: e.atSeconds,
          ...(e.detail ? { detail: e.detail } : {}),
        })),
      }),
    );
  } else {
    show(
      `Back to ${desired}/${desired} ready in ${recoverySeconds?.toFixed(1) ?? '?'} s; ${replacement ?? 'the replacement'} took the place of ${victim}${node ? ` on ${node}` : ''}.`,
    );
    ctx.printer.line(
      'The ReplicaSet noticed one pod fewer than desired and created a new one at once; the Service stopped sending to the old pod as soon as it began terminating.',
    );
  }
  return result;
}
