import type * as k8s from '@kubernetes/client-node';
import type { Context } from '../context.js';
import { InterruptedError, OperationError, UsageError } from '../errors.js';
import type { RawOptions } from '../core/options.js';
import { pickOne, planKillPod, seededRandom } from '../core/blast-plan.js';
import { DEPLOYMENT, SERVICE } from '../core/names.js';
import {
  buildTimeline,
  describe,
  secondsBetween,
  type Observation,
  type TimelineEntry,
  type TimelineEvent,
} from '../core/timeline.js';
import { describeTarget, resolveTarget } from '../target.js';
import { apiErrorMessage, kubeClients, lessonReadError } from '../kube/client.js';
import { isPodReady, selectorString } from '../kube/pods.js';
import { endpointsPath, follow, podsPath, waitFor } from '../kube/watch.js';

export interface KillPodResult {
  killed: string;
  replacement: string | null;
  node: string | null;
  recoverySeconds: number | null;
  timeline: TimelineEntry[];
}

function endpointPodNames(endpoints: k8s.V1Endpoints): Set<string> {
  const names = new Set<string>();
  for (const subset of endpoints.subsets ?? []) {
    for (const address of subset.addresses ?? []) {
      if (address.targetRef?.name) names.add(address.targetRef.name);
    }
  }
  return names;
}

function containerStarted(pod: k8s.V1Pod): boolean {
  return (pod.status?.containerStatuses ?? []).some(
    (c) => c.started === true || c.state?.running !== undefined,
  );
}

/** `replica-demo kill-pod`: delete one replica and follow, by watch, how it is replaced. */
export async function killPod(opts: RawOptions, ctx: Context): Promise<KillPodResult> {
  const plan = planKillPod(opts);
  const target = await resolveTarget(opts, ctx);
  ctx.printer.note(describeTarget(target));
  const { core, apps, kc } = kubeClients(target);
  const namespace = target.namespace;

  let desired: number;
  let service: k8s.V1Service;
  try {
    const deployment = await apps.readNamespacedDeployment({ name: DEPLOYMENT, namespace });
    desired = deployment.spec?.replicas ?? 1;
    service = await core.readNamespacedService({ name: SERVICE, namespace });
  } catch (error) {
    throw lessonReadError(error, `Deployment ${DEPLOYMENT} or Service ${SERVICE}`, namespace);
  }
  const labelSelector = selectorString(service.spec?.selector);
  const list = await core.listNamespacedPod({ namespace, labelSelector });
  const live = list.items.filter((p) => !p.metadata?.deletionTimestamp);
  const names = live.map((p) => p.metadata?.name ?? '').filter((n) => n !== '');
  const readyNames = live.filter(isPodReady).map((p) => p.metadata?.name ?? '');

  let victim: string;
  if (plan.pod !== undefined) {
    if (!names.includes(plan.pod)) {
      throw new UsageError(
        `--pod ${plan.pod} is not a pod of ${DEPLOYMENT} in ${namespace}; valid names: ${names.sort().join(', ') || '(none)'}.`,
      );
    }
    victim = plan.pod;
  } else {
    const random = plan.seed !== undefined ? seededRandom(plan.seed) : ctx.random;
    const chosen = pickOne(readyNames, random);
    if (chosen === undefined) {
      throw new OperationError(
        `No pod of ${DEPLOYMENT} is ready, so there is no ready pod to kill.`,
        'Run `replica-demo up` and wait for the pods, or name one with --pod.',
      );
    }
    victim = chosen;
  }
  if (readyNames.length < desired) {
    ctx.printer.note(
      `Note: only ${readyNames.length} of ${desired} pods are ready before the kill; recovery is timed until ${desired}/${desired} are ready.`,
    );
  }

  const observations: Observation[] = [];
  const observe = (event: TimelineEvent, detail?: string) => {
    if (observations.some((o) => o.event === event)) return;
    const o: Observation = { event, at: ctx.now(), ...(detail !== undefined ? { detail } : {}) };
    observations.push(o);
    if (!plan.json && deletedAt !== undefined) {
      ctx.printer.line(
        `  +${secondsBetween(deletedAt, o.at).toFixed(1).padStart(5)} s  ${describe(event, detail)}`,
      );
    }
  };

  const initial = new Set(list.items.map((p) => p.metadata?.name ?? ''));
  const pods = new Map<string, k8s.V1Pod>(list.items.map((p) => [p.metadata?.name ?? '', p]));
  let replacement: string | undefined;
  let deletedAt: number | undefined;
  let inEndpoints: boolean | undefined;

  const readyCount = () =>
    [...pods.values()].filter((p) => !p.metadata?.deletionTimestamp && isPodReady(p)).length;

  const onPod = (type: string, pod: k8s.V1Pod): true | undefined => {
    const name = pod.metadata?.name ?? '';
    if (type === 'DELETED') pods.delete(name);
    else pods.set(name, pod);
    if (deletedAt === undefined) return undefined;
    if (name === victim) {
      if (type === 'DELETED') observe('old-pod-gone');
      else if (pod.metadata?.deletionTimestamp) {
        const grace = pod.metadata.deletionGracePeriodSeconds;
        observe('terminating', grace !== undefined ? `grace period ${grace} s` : undefined);
      }
    } else if (!initial.has(name) && type !== 'DELETED') {
      if (replacement === undefined) {
        replacement = name;
        observe('replacement-created', name);
      }
      if (name === replacement) {
        if (pod.spec?.nodeName) observe('scheduled', pod.spec.nodeName);
        if (containerStarted(pod)) observe('started');
        if (isPodReady(pod)) observe('ready');
      }
    }
    return check();
  };

  const check = (): true | undefined => {
    const gone = observations.some((o) => o.event === 'old-pod-gone');
    const replacementReady = observations.some((o) => o.event === 'ready');
    if (replacementReady && readyCount() >= desired) observe('recovered', `${desired}/${desired}`);
    return gone && observations.some((o) => o.event === 'recovered') ? true : undefined;
  };

  const endpointsWatch = follow<k8s.V1Endpoints>(
    kc,
    endpointsPath(namespace),
    {},
    (type, endpoints) => {
      if (endpoints.metadata?.name !== SERVICE || type === 'DELETED') return;
      const present = endpointPodNames(endpoints).has(victim);
      if (deletedAt !== undefined && inEndpoints !== false && !present) observe('left-endpoints');
      inEndpoints = present;
    },
  );

  try {
    const waiting = waitFor<k8s.V1Pod, true>(
      kc,
      podsPath(namespace),
      {
        labelSelector,
        ...(list.metadata?.resourceVersion
          ? { resourceVersion: list.metadata.resourceVersion }
          : {}),
      },
      onPod,
      {
        signal: ctx.signal,
        timeoutMs: plan.timeoutSeconds * 1000,
        what: `${DEPLOYMENT} to be back to ${desired}/${desired} ready`,
        timeoutFlag: '--timeout',
      },
    );
    if (!plan.json) {
      ctx.printer.line(`Killing ${victim}; following the ReplicaSet as it replaces it:`);
      ctx.printer.line(`  +  0.0 s  ${describe('deleted', victim)}`);
    }
    // The clock starts as the request leaves, so the watch events that follow measure from it.
    deletedAt = ctx.now();
    observations.push({ event: 'deleted', at: deletedAt, detail: victim });
    try {
      await core.deleteNamespacedPod({
        name: victim,
        namespace,
        ...(plan.graceSeconds !== undefined ? { gracePeriodSeconds: plan.graceSeconds } : {}),
      });
    } catch (error) {
      waiting.catch(() => undefined);
      throw new OperationError(`Could not delete pod ${victim}: ${apiErrorMessage(error)}`);
    }
    await waiting.catch((error: unknown) => {
      if (error instanceof InterruptedError) {
        throw new InterruptedError(
          `Interrupted while following the replacement: ${victim} was deleted, and the ReplicaSet replaces it on its own (\`kubectl get pods -n ${namespace}\`).`,
        );
      }
      throw error;
    });
  } finally {
    endpointsWatch.stop();
  }

  const timeline = buildTimeline(observations);
  const recoveredAt = observations.find((o) => o.event === 'recovered')?.at;
  const recoverySeconds =
    recoveredAt !== undefined && deletedAt !== undefined
      ? secondsBetween(deletedAt, recoveredAt)
      : null;
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
    ctx.printer.line(
      `Back to ${desired}/${desired} ready in ${recoverySeconds?.toFixed(1) ?? '?'} s; ${replacement ?? 'the replacement'} took the place of ${victim}${node ? ` on ${node}` : ''}.`,
    );
    ctx.printer.line(
      'The ReplicaSet noticed one pod fewer than desired and created a new one at once; the Service stopped sending to the old pod as soon as it began terminating.',
    );
  }
  return result;
}
