import type * as k8s from '@kubernetes/client-node';
import type { Context } from '../context.js';
import { assignColours } from '../core/colours.js';
import { rememberColours, rememberedColours } from '../pod-colours.js';
import { paintNames, podPainter } from '../render/colours.js';
import { InterruptedError, OperationError, TimeoutError, UsageError } from '../errors.js';
import { pickOne, seededRandom, type KillPlan } from '../core/blast-plan.js';
import { DEPLOYMENT, SERVICE } from '../core/names.js';
import { describe, type Observation, type TimelineEvent } from '../core/timeline.js';
import type { KubeApi } from '../kube/api.js';
import { waitUntil, type Informer } from '../kube/informer.js';
import { isPodReady } from '../core/pods.js';

/**
 * The kill of `kill-pod`: which pod, its deletion, and the replacement followed by watch as
 * it happens, for the command alone and under load.
 */

export function endpointPodNames(endpoints: k8s.V1Endpoints | undefined): Set<string> {
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

export interface Follow {
  plan: KillPlan;
  ctx: Context;
  namespace: string;
  desired: number;
  api: KubeApi;
  pods: Informer<k8s.V1Pod>;
  endpoints: Informer<k8s.V1Endpoints>;
}

export function chooseVictim({ plan, ctx, namespace, desired, pods }: Follow): string {
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

/**
 * Deletes `victim` and follows, by watch, how the ReplicaSet replaces it, printing each step
 * as it comes (not with --json), until the Deployment is back to its size and the old pod is
 * gone. `heading` is the first line printed.
 */
export async function deleteAndFollow(
  f: Follow,
  victim: string,
  heading = `Killing ${victim}; following the ReplicaSet as it replaces it:`,
): Promise<Seen> {
  const { plan, ctx, namespace, desired, api, pods, endpoints } = f;
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
    show(heading);
    show(`  + 0.00 s  ${describe('deleted', victim)}`);
  }
  // The clock starts as the request leaves (nothing runs between here and the delete call,
  // so every watch event that follows is measured from it).
  const deletedAt = ctx.now();
  const { observations, observe, seen } = recordTimeline(
    plan.json,
    { event: 'deleted', at: deletedAt, detail: victim },
    show,
    () => ctx.now(),
  );
  const preStop = preStopSeconds(pods.get(victim));
  const explainPreStop = (grace: number | undefined) => {
    if (plan.json || preStop === undefined) return;
    ctx.printer.line(
      grace === 0
        ? `             with grace 0 its preStop hook (${preStop} s) does not run at all`
        : grace !== undefined && grace <= preStop
          ? `             its preStop hook would wait ${preStop} s before SIGTERM, but the ${grace} s grace period ends first`
          : `             its preStop hook waits ${preStop} s before SIGTERM, so every node stops sending to it first`,
    );
  };
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
  return { victim, replacement, observations, killedAt: deletedAt, show, preStop };
}

/** The timeline as it is seen: each event once, printed as it comes (not with --json). */
export interface Recorder {
  observations: Observation[];
  observe: (event: TimelineEvent, detail?: string) => void;
  seen: (event: TimelineEvent) => boolean;
}

/** Starts at `first`, whose time is the origin of every line's seconds. */
export function recordTimeline(
  json: boolean,
  first: Observation,
  show: (text: string) => void,
  now: () => number,
): Recorder {
  const observations: Observation[] = [first];
  const seen = (event: TimelineEvent) => observations.some((o) => o.event === event);
  const observe = (event: TimelineEvent, detail?: string) => {
    if (seen(event)) return;
    const o: Observation = { event, at: now(), ...(detail !== undefined ? { detail } : {}) };
    observations.push(o);
    if (!json) {
      // Hundredths on screen: several steps happen within the first second.
      const seconds = ((o.at - first.at) / 1000).toFixed(2).padStart(5);
      show(`  +${seconds} s  ${describe(event, detail)}`);
    }
  };
  return { observations, observe, seen };
}

export interface Seen {
  victim: string;
  replacement: string | undefined;
  observations: Observation[];
  /** When the pod was deleted, or with --crash when its process crashed: the timeline's 0. */
  killedAt: number;
  /** Prints a line with the pods in their colours. */
  show: (text: string) => void;
  /** The seconds of the killed pod's preStop sleep, if it had one. */
  preStop: number | undefined;
  /** With --crash: how the container ended and how often it has restarted. */
  crash?: CrashSeen;
}

export interface CrashSeen {
  exitCode: number | null;
  reason: string | null;
  restartCount: number | null;
  /** The pod's readiness probe, which a crash does not wait for. */
  readiness: { periodSeconds: number; failureThreshold: number } | null;
}
