import { SAFE_ALPHABET } from '../../common/names.js';
import type { KubeObject, Store } from '../store.js';
import { recordEvent } from '../events.js';
import { matchesLabels, requirementsFromLabelSelector } from '../selectors.js';
import {
  DEPLOYMENTS,
  REPLICASETS,
  controllerOf,
  deleteQuietly,
  ownersToSync,
  keyOf,
  ownedBy,
  ownerReference,
  splitKey,
} from './common.js';
import { WorkQueue, type SyncResult } from './queue.js';
import { deploymentStatus, replicasOf, rsStatus, stripTimes } from './deployment-status.js';
import {
  specOf,
  statusOf,
  type Condition,
  type DeploymentSpec,
  type PodTemplate,
  type ReplicaSetSpec,
} from './types.js';

const HASH_LABEL = 'pod-template-hash';
const REVISION = 'deployment.kubernetes.io/revision';
const DESIRED = 'deployment.kubernetes.io/desired-replicas';
const MAX = 'deployment.kubernetes.io/max-replicas';
const COMPONENT = 'deployment-controller';

/** JSON with sorted keys, so two equal templates print the same whatever their key order. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Without nulls: `creationTimestamp: null` in a template (as kubectl's rollback sends it) is no change. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, withoutNulls(v)]),
  );
}

function withoutHash(template: PodTemplate): PodTemplate {
  const copy = withoutNulls(structuredClone(template)) as PodTemplate;
  if (copy.metadata?.labels) {
    delete copy.metadata.labels[HASH_LABEL];
    if (Object.keys(copy.metadata.labels).length === 0) delete copy.metadata.labels;
  }
  return copy;
}

/**
 * The real controller's pod-template-hash: FNV-32a over the template (and the collision
 * count), its decimal digits mapped onto the "safe" alphabet, so names look like
 * `web-server-deployment-7d9c8b5f4`.
 */
export function podTemplateHash(template: PodTemplate, collisionCount = 0): string {
  let h = 0x811c9dc5;
  const text =
    stableJson(withoutHash(template)) + (collisionCount > 0 ? String(collisionCount) : '');
  for (const byte of Buffer.from(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return [...String(h)].map((c) => SAFE_ALPHABET[c.charCodeAt(0) % SAFE_ALPHABET.length]).join('');
}

function sameTemplate(a: PodTemplate, b: PodTemplate): boolean {
  return stableJson(withoutHash(a)) === stableJson(withoutHash(b));
}

/** An int-or-percent of `total`; surge rounds up, unavailability down (as the real one). */
export function resolveIntOrPercent(
  value: number | string | undefined,
  total: number,
  roundUp: boolean,
  fallback: string,
): number {
  const v = value ?? fallback;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) return Number.parseInt(v, 10) || 0;
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

function revisionOf(rs: KubeObject): number {
  return Number(rs.metadata.annotations?.[REVISION] ?? '0') || 0;
}

function byAge(a: KubeObject, b: KubeObject): number {
  return (
    a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp) ||
    Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion)
  );
}

/** Deployment -> ReplicaSets: creates the one for the current template, rolls, scales, reports. */
export class DeploymentController {
  private readonly queue: WorkQueue;
  private readonly unwatch: (() => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
    log: (message: string) => void,
  ) {
    this.queue = new WorkQueue('deployment', (key) => this.sync(key), log);
  }

  start(): void {
    this.unwatch.push(
      this.store.watch(DEPLOYMENTS, {}, (e) => this.queue.add(keyOf(e.object))),
      this.store.watch(REPLICASETS, {}, (e) => {
        for (const key of ownersToSync(this.store, DEPLOYMENTS, e)) this.queue.add(key);
      }),
    );
  }

  async stop(): Promise<void> {
    for (const u of this.unwatch.splice(0)) u();
    await this.queue.stop();
  }

  private sync(key: string): SyncResult {
    const [ns, name] = splitKey(key);
    const d = this.store.get(DEPLOYMENTS, ns, name);
    if (!d) return;
    const spec = specOf<DeploymentSpec>(d);
    const desired = spec.replicas ?? 1;
    if (!d.metadata.deletionTimestamp) this.adoptOrphans(d, spec);
    const all = ownedBy(this.store, REPLICASETS, d).sort(byAge);
    let newRS = all.find((rs) => sameTemplate(specOf<ReplicaSetSpec>(rs).template, spec.template));
    const old = (): KubeObject[] =>
      this.ownedNow(d).filter((rs) => rs.metadata.uid !== newRS?.metadata.uid);
    let createdName: string | undefined;

    if (!d.metadata.deletionTimestamp && !spec.paused) {
      const maxRevision = Math.max(0, ...old().map(revisionOf));
      const strategy = spec.strategy?.type ?? 'RollingUpdate';
      const maxSurge = resolveIntOrPercent(
        spec.strategy?.rollingUpdate?.maxSurge,
        desired,
        true,
        '25%',
      );
      let maxUnavailable = resolveIntOrPercent(
        spec.strategy?.rollingUpdate?.maxUnavailable,
        desired,
        false,
        '25%',
      );
      if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;

      if (!newRS) {
        const oldActive = old().some((rs) => replicasOf(rs) > 0 || rsStatus(rs).replicas > 0);
        let replicas: number;
        if (strategy === 'Recreate') replicas = oldActive ? 0 : desired;
        else {
          const current = old().reduce((n, rs) => n + replicasOf(rs), 0);
          replicas = Math.max(0, Math.min(desired + maxSurge - current, desired));
        }
        newRS = this.createReplicaSet(d, spec, replicas, maxRevision + 1, desired + maxSurge);
        createdName = newRS.metadata.name;
      } else if (revisionOf(newRS) <= maxRevision) {
        // The template went back to an older ReplicaSet's: that one becomes the newest revision.
        newRS = this.store.update(REPLICASETS, ns, newRS.metadata.name, (rs) => {
          rs.metadata.annotations = {
            ...rs.metadata.annotations,
            [REVISION]: String(maxRevision + 1),
          };
        });
      }

      if (strategy === 'Recreate') {
        let stillRunning = false;
        for (const rs of old()) {
          if (replicasOf(rs) > 0) this.scale(d, rs, 0, desired, desired);
          if (rsStatus(rs).replicas > 0) stillRunning = true;
        }
        if (!stillRunning && replicasOf(newRS) !== desired)
          this.scale(d, newRS, desired, desired, desired);
      } else {
        this.rollNew(d, newRS, desired, maxSurge);
        this.rollOld(d, newRS, desired, maxUnavailable, maxSurge);
      }
      this.cleanup(d, spec.revisionHistoryLimit ?? 10, newRS);
    }
    return this.syncStatus(d, spec, desired, newRS, createdName);
  }

  /** ReplicaSets left without a controller (an orphaning delete) are taken back, as the real one does. */
  private adoptOrphans(d: KubeObject, spec: DeploymentSpec): void {
    const selector = requirementsFromLabelSelector(spec.selector);
    if (selector.length === 0) return;
    const ns = d.metadata.namespace ?? '';
    for (const rs of this.store.list(REPLICASETS, { namespace: ns }).items) {
      if (controllerOf(rs) || rs.metadata.deletionTimestamp) continue;
      if (!matchesLabels(selector, rs.metadata.labels)) continue;
      this.store.update(REPLICASETS, ns, rs.metadata.name, (o) => {
        o.metadata.ownerReferences = [...(o.metadata.ownerReferences ?? []), ownerReference(d)];
      });
    }
  }

  private ownedNow(d: KubeObject): KubeObject[] {
    return ownedBy(this.store, REPLICASETS, d).sort(byAge);
  }

  private createReplicaSet(
    d: KubeObject,
    spec: DeploymentSpec,
    replicas: number,
    revision: number,
    maxReplicas: number,
  ): KubeObject {
    const ns = d.metadata.namespace ?? '';
    let collisions = statusOf<{ collisionCount: number }>(d).collisionCount ?? 0;
    // Bounded: each round either creates the ReplicaSet or counts one more collision.
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const hash = podTemplateHash(spec.template, collisions);
      const name = `${d.metadata.name}-${hash}`;
      if (this.store.get(REPLICASETS, ns, name)) {
        collisions += 1;
        continue;
      }
      const template = structuredClone(spec.template);
      template.metadata = {
        ...template.metadata,
        labels: { ...template.metadata?.labels, [HASH_LABEL]: hash },
      };
      const selector = structuredClone(spec.selector);
      selector.matchLabels = { ...selector.matchLabels, [HASH_LABEL]: hash };
      const rs = this.store.create(REPLICASETS, {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name,
          namespace: ns,
          labels: { ...template.metadata.labels },
          annotations: {
            [DESIRED]: String(spec.replicas ?? 1),
            [MAX]: String(maxReplicas),
            [REVISION]: String(revision),
          },
          ownerReferences: [ownerReference(d)],
        },
        spec: {
          replicas,
          minReadySeconds: spec.minReadySeconds ?? 0,
          selector,
          template,
        },
        status: { replicas: 0 },
      });
      if (collisions !== (statusOf<{ collisionCount: number }>(d).collisionCount ?? 0)) {
        this.store.update(DEPLOYMENTS, ns, d.metadata.name, (o) => {
          o.status = { ...(o.status as object), collisionCount: collisions };
        });
      }
      if (replicas > 0) {
        recordEvent(
          this.store,
          d,
          'Normal',
          'ScalingReplicaSet',
          `Scaled up replica set ${name} from 0 to ${replicas}`,
          COMPONENT,
        );
      }
      return rs;
    }
    throw new Error(`could not find a free ReplicaSet name for deployment ${d.metadata.name}`);
  }

  private scale(
    d: KubeObject,
    rs: KubeObject,
    to: number,
    desired: number,
    maxReplicas: number,
  ): KubeObject {
    const from = replicasOf(rs);
    const updated = this.store.update(REPLICASETS, rs.metadata.namespace, rs.metadata.name, (o) => {
      o.spec = { ...(o.spec as object), replicas: to };
      o.metadata.annotations = {
        ...o.metadata.annotations,
        [DESIRED]: String(desired),
        [MAX]: String(maxReplicas),
      };
    });
    if (from !== to) {
      recordEvent(
        this.store,
        d,
        'Normal',
        'ScalingReplicaSet',
        `Scaled ${to > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${to}`,
        COMPONENT,
      );
    }
    return updated;
  }

  private rollNew(d: KubeObject, newRS: KubeObject, desired: number, maxSurge: number): void {
    const current = replicasOf(newRS);
    if (current === desired) return;
    if (current > desired) {
      this.scale(d, newRS, desired, desired, desired + maxSurge);
      return;
    }
    const total = this.ownedNow(d).reduce((n, rs) => n + replicasOf(rs), 0);
    const room = desired + maxSurge - total;
    if (room <= 0) return;
    this.scale(d, newRS, current + Math.min(room, desired - current), desired, desired + maxSurge);
  }

  private rollOld(
    d: KubeObject,
    newRSBefore: KubeObject,
    desired: number,
    maxUnavailable: number,
    maxSurge: number,
  ): void {
    const all = this.ownedNow(d);
    const newRS = all.find((rs) => rs.metadata.uid === newRSBefore.metadata.uid) ?? newRSBefore;
    const old = all.filter((rs) => rs.metadata.uid !== newRS.metadata.uid && replicasOf(rs) > 0);
    if (old.length === 0) return;
    const allPods = all.reduce((n, rs) => n + replicasOf(rs), 0);
    const minAvailable = desired - maxUnavailable;
    const newUnavailable = replicasOf(newRS) - rsStatus(newRS).availableReplicas;
    let budget = allPods - minAvailable - newUnavailable;
    if (budget <= 0) return;
    // First take away old replicas that are not available anyway: that costs no capacity.
    for (const rs of old) {
      if (budget <= 0) break;
      const unhealthy = replicasOf(rs) - rsStatus(rs).availableReplicas;
      if (unhealthy <= 0) continue;
      const cut = Math.min(unhealthy, budget);
      this.scale(d, rs, replicasOf(rs) - cut, desired, desired + maxSurge);
      budget -= cut;
    }
    const fresh = this.ownedNow(d);
    const available = fresh.reduce(
      (n, rs) => n + Math.min(rsStatus(rs).availableReplicas, replicasOf(rs)),
      0,
    );
    let cutTotal = Math.min(available - minAvailable, budget);
    for (const rs of fresh) {
      if (cutTotal <= 0) break;
      if (rs.metadata.uid === newRS.metadata.uid || replicasOf(rs) === 0) continue;
      const cut = Math.min(replicasOf(rs), cutTotal);
      this.scale(d, rs, replicasOf(rs) - cut, desired, desired + maxSurge);
      cutTotal -= cut;
    }
  }

  /** Keep at most `limit` old, empty ReplicaSets (the rollback history). */
  private cleanup(d: KubeObject, limit: number, newRS: KubeObject): void {
    const empty = this.ownedNow(d)
      .filter(
        (rs) =>
          rs.metadata.uid !== newRS.metadata.uid &&
          replicasOf(rs) === 0 &&
          rsStatus(rs).replicas === 0 &&
          !rs.metadata.deletionTimestamp,
      )
      .sort((a, b) => revisionOf(a) - revisionOf(b));
    for (const rs of empty.slice(0, Math.max(0, empty.length - limit))) {
      deleteQuietly(this.store, REPLICASETS, rs, { propagationPolicy: 'Background' });
    }
  }

  private syncStatus(
    d: KubeObject,
    spec: DeploymentSpec,
    desired: number,
    newRS: KubeObject | undefined,
    createdName: string | undefined,
  ): SyncResult {
    const all = this.ownedNow(d);
    const maxUnavailable =
      (spec.strategy?.type ?? 'RollingUpdate') === 'Recreate'
        ? 0
        : resolveIntOrPercent(spec.strategy?.rollingUpdate?.maxUnavailable, desired, false, '25%');
    const { status, requeue } = deploymentStatus({
      deployment: d,
      spec,
      desired,
      maxUnavailable,
      replicaSets: all,
      current: newRS ? all.find((rs) => rs.metadata.uid === newRS.metadata.uid) : undefined,
      createdName,
      now: this.store.timestamp(),
      nowMs: this.now().getTime(),
    });
    // The Deployment carries its newest ReplicaSet's revision, written as status is.
    const revision = newRS ? String(revisionOf(newRS)) : d.metadata.annotations?.[REVISION];
    if (this.store.get(DEPLOYMENTS, d.metadata.namespace, d.metadata.name)) {
      this.store.update(
        DEPLOYMENTS,
        d.metadata.namespace,
        d.metadata.name,
        (o) => {
          const before = statusOf<{ conditions: Condition[] }>(o);
          const conditions = (status.conditions ?? []) as Condition[];
          // Only the timestamps would differ: not a change worth a new resourceVersion.
          if (
            o.metadata.annotations?.[REVISION] === revision &&
            stableJson({ ...status, conditions: stripTimes(conditions) }) ===
              stableJson({ ...before, conditions: stripTimes(before.conditions ?? []) })
          ) {
            return false;
          }
          o.status = status;
          if (revision !== undefined)
            o.metadata.annotations = { ...o.metadata.annotations, [REVISION]: revision };
        },
        undefined,
        { status: true },
      );
    }
    return requeue;
  }
}
