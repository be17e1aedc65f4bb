/**
 * Where a rollout stands and, when it is stuck, why, in plain words. Pure: Deployment, pod
 * and event objects in, counts and sentences out.
 */

type Json = unknown;

export interface DeploymentLike {
  metadata?: { name?: string; generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
  };
}

export interface RolloutProgress {
  ready: number;
  desired: number;
  done: boolean;
}

/**
 * Done when the controller has seen the latest spec, every replica runs the new template,
 * no old pod is left, and all are ready: what `kubectl rollout status` waits for.
 */
export function rolloutProgress(
  deployment: DeploymentLike | undefined,
  desired: number,
): RolloutProgress {
  const status = deployment?.status ?? {};
  // readyReplicas counts old and new pods alike, so a surge reads "6/5 ready". The current
  // ReplicaSet is not at hand here; updatedReplicas counts the pods of the current template,
  // so min(readyReplicas, updatedReplicas), capped at desired, is the ready pods of the
  // current template (it can undercount while old ready pods outnumber not-ready new ones,
  // never overcount).
  const ready = Math.min(status.readyReplicas ?? 0, status.updatedReplicas ?? 0, desired);
  const observed = (status.observedGeneration ?? 0) >= (deployment?.metadata?.generation ?? 1);
  const done =
    deployment !== undefined &&
    observed &&
    (deployment.spec?.replicas ?? desired) === desired &&
    (status.updatedReplicas ?? 0) === desired &&
    (status.replicas ?? 0) === desired &&
    (status.readyReplicas ?? 0) === desired &&
    (status.availableReplicas ?? 0) === desired;
  return { ready, desired, done };
}

// ---------------------------------------------------------------------------------------
// Why a rollout is stuck

export interface PodSummary {
  name: string;
  deleting: boolean;
  nodeName?: string;
  ready: boolean;
  restarts: number;
  /** Containers that are waiting, with kubelet's reason (ErrImagePull, CrashLoopBackOff...). */
  waiting: { container: string; image?: string; reason: string; message?: string }[];
}

export interface EventSummary {
  /** Kind and name of the object the event is about. */
  kind: string;
  name: string;
  reason: string;
  message: string;
  type: string;
  /** Milliseconds since the epoch; 0 when unknown. */
  at: number;
}

interface PodJson {
  metadata?: { name?: string; deletionTimestamp?: Json };
  spec?: { nodeName?: string; containers?: { name?: string; image?: string }[] };
  status?: {
    containerStatuses?: {
      name?: string;
      image?: string;
      ready?: boolean;
      restartCount?: number;
      state?: { waiting?: { reason?: string; message?: string } };
    }[];
    initContainerStatuses?: unknown[];
    conditions?: { type?: string; status?: string }[];
  };
}

export function summarizePod(raw: Json): PodSummary {
  const pod = raw as PodJson;
  const statuses = pod.status?.containerStatuses ?? [];
  const images = new Map((pod.spec?.containers ?? []).map((c) => [c.name, c.image]));
  return {
    name: pod.metadata?.name ?? '?',
    deleting:
      pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null,
    ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    ready: (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    restarts: statuses.reduce((sum, c) => sum + (c.restartCount ?? 0), 0),
    waiting: statuses
      .filter((c) => c.state?.waiting?.reason)
      .map((c) => ({
        container: c.name ?? '?',
        reason: c.state?.waiting?.reason ?? '',
        ...(c.state?.waiting?.message ? { message: c.state.waiting.message } : {}),
        ...((images.get(c.name) ?? c.image) ? { image: images.get(c.name) ?? c.image } : {}),
      })),
  };
}

interface EventJson {
  involvedObject?: { kind?: string; name?: string };
  regarding?: { kind?: string; name?: string };
  reason?: string;
  message?: string;
  note?: string;
  type?: string;
  lastTimestamp?: Json;
  eventTime?: Json;
  firstTimestamp?: Json;
  metadata?: { creationTimestamp?: Json };
}

function timeOf(value: Json): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? 0 : ms;
  }
  return 0;
}

export function summarizeEvent(raw: Json): EventSummary {
  const event = raw as EventJson;
  const about = event.involvedObject ?? event.regarding ?? {};
  return {
    kind: about.kind ?? '?',
    name: about.name ?? '?',
    reason: event.reason ?? '',
    message: (event.message ?? event.note ?? '').trim(),
    type: event.type ?? 'Normal',
    at: Math.max(
      timeOf(event.lastTimestamp),
      timeOf(event.eventTime),
      timeOf(event.firstTimestamp),
      timeOf(event.metadata?.creationTimestamp),
    ),
  };
}

/**
 * Whether an event happened at or after `since` (ms since the epoch). Event times have
 * one-second resolution, so `since` is taken down to its second: an event of the same
 * second counts. An event without a time counts only when no `since` is given.
 */
export function isEventSince(event: EventSummary, since: number): boolean {
  if (since <= 0) return true;
  return event.at > 0 && event.at >= Math.floor(since / 1000) * 1000;
}

/**
 * One short phrase for the spinner: the newest event about a pod or ReplicaSet that
 * happened since the wait began (`since`), so an old problem is not shown as current.
 */
export function latestEventText(events: readonly EventSummary[], since = 0): string | undefined {
  let latest: EventSummary | undefined;
  for (const e of events) {
    if (e.kind !== 'Pod' && e.kind !== 'ReplicaSet') continue;
    if (!isEventSince(e, since)) continue;
    if (latest === undefined || e.at >= latest.at) latest = e;
  }
  if (latest === undefined) return undefined;
  // A startup probe failing while the server boots is expected, not a fault: say "starting".
  const text =
    latest.reason === 'Unhealthy' && latest.message.startsWith('Startup probe failed')
      ? `starting ${latest.name}: its startup probe has not passed yet`
      : `${latest.reason} ${latest.name}: ${latest.message}`;
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}

/**
 * The spinner's line: how many replicas are ready and, while some are not, the newest
 * event since the wait began. Once all are ready an event (a startup probe that failed on
 * the way) would read as a problem next to "5/5 ready", so none is shown.
 */
export function rolloutProgressText(
  progress: RolloutProgress,
  events: readonly EventSummary[],
  since: number,
): string {
  const counts = `${progress.ready}/${progress.desired} ready`;
  if (progress.ready >= progress.desired) return counts;
  const latest = latestEventText(events, since);
  return latest ? `${counts} · ${latest}` : counts;
}

const IMAGE_REASONS = new Set([
  'ErrImageNeverPull',
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
]);

export interface DiagnosisContext {
  /** Where the image should have come from, for the hint: a kind cluster name. */
  cluster?: string;
  embedded?: boolean;
}

/**
 * Plain-words reasons a rollout did not finish, most telling first. Empty when nothing
 * explains it (then the caller says only how far it got). Only events at or after `since`
 * (the start of the wait) count: a problem of an earlier rollout is not this one's.
 */
export function diagnoseRollout(
  pods: readonly PodSummary[],
  events: readonly EventSummary[],
  context: DiagnosisContext = {},
  since = 0,
): string[] {
  const reasons: string[] = [];
  const newestFirst = events.filter((e) => isEventSince(e, since)).sort((a, b) => b.at - a.at);

  const failedCreate = newestFirst.find(
    (e) => e.reason === 'FailedCreate' && e.kind === 'ReplicaSet',
  );
  if (failedCreate) {
    const podSecurity = /PodSecurity|violates/i.test(failedCreate.message);
    reasons.push(
      podSecurity
        ? `ReplicaSet ${failedCreate.name} cannot create pods: Pod Security rejects the pod template (${failedCreate.message})`
        : `ReplicaSet ${failedCreate.name} cannot create pods: ${failedCreate.message}`,
    );
  }

  const live = pods.filter((p) => !p.deleting);
  for (const pod of live) {
    for (const w of pod.waiting) {
      if (IMAGE_REASONS.has(w.reason)) {
        const image = w.image ?? 'the image';
        const how = context.embedded
          ? 'the embedded cluster runs only multi-replica-app and curlimages/curl images'
          : context.cluster !== undefined
            ? `was it loaded into this cluster? (\`kind load docker-image ${image} --name ${context.cluster}\`)`
            : 'was the image loaded into, or can it be pulled by, this cluster?';
        reasons.push(`Pod ${pod.name} cannot get image ${image} (${w.reason}): ${how}`);
      } else if (w.reason === 'CreateContainerConfigError') {
        reasons.push(
          `Pod ${pod.name} cannot start container ${w.container} (CreateContainerConfigError): ${w.message ?? 'check its env, secrets and securityContext'}`,
        );
      } else if (w.reason === 'CrashLoopBackOff') {
        reasons.push(
          `Pod ${pod.name} keeps crashing (CrashLoopBackOff, ${pod.restarts} restarts): see \`kubectl logs --previous ${pod.name}\``,
        );
      } else if (w.reason !== 'ContainerCreating' && w.reason !== 'PodInitializing') {
        reasons.push(
          `Pod ${pod.name} is waiting: ${w.reason}${w.message ? ` (${w.message})` : ''}`,
        );
      }
    }
  }

  const unhealthy = newestFirst.find((e) => e.reason === 'Unhealthy' && e.kind === 'Pod');
  if (unhealthy) reasons.push(`Pod ${unhealthy.name}: a probe is failing (${unhealthy.message})`);

  const unscheduled = newestFirst.find((e) => e.reason === 'FailedScheduling');
  if (unscheduled)
    reasons.push(`Pod ${unscheduled.name} cannot be scheduled: ${unscheduled.message}`);

  if (reasons.length === 0 && live.length === 0) {
    reasons.push('no pod of it exists yet, and no ReplicaSet event says why');
  }

  // One line per distinct reason: five replicas with the same image problem say it once.
  const seen = new Set<string>();
  return reasons.filter((r) => {
    const key = r.replace(/^Pod \S+/, 'Pod');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
