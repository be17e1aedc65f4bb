import type { KubeObject, Store } from '../store.js';
import { recordEvent } from '../events.js';
import { toleratesTaints } from '../nodes.js';
import { matchesLabels, requirementsFromLabelSelector } from '../selectors.js';
import { NODES, PODS, isPodTerminal, keyOf, splitKey } from '../controllers/common.js';
import { WorkQueue, type SyncResult } from '../controllers/queue.js';
import { specOf, type PodSpec, type TopologySpreadConstraint } from '../controllers/types.js';
import type { Random } from '../random.js';

const COMPONENT = 'default-scheduler';

/** A cordoned node (`kubectl cordon`): the scheduler places no new pod there. */
const unschedulable = (node: KubeObject): boolean =>
  (node.spec as { unschedulable?: boolean } | undefined)?.unschedulable === true;

/** `matchLabelKeys` narrows a spread constraint to pods sharing those label values (e.g. one revision). */
type SpreadConstraint = TopologySpreadConstraint & { matchLabelKeys?: string[] };

/**
 * Binds pending pods to nodes: among the nodes the pod fits (taints, nodeSelector), the one
 * with the fewest of the pod's peers (spread constraints, else pods of the same owner), then
 * the fewest pods; ties broken at random like the real scheduler.
 */
export class Scheduler {
  private readonly queue: WorkQueue;
  private unwatch: (() => void) | undefined;

  constructor(
    private readonly store: Store,
    private readonly random: Random,
    log: (message: string) => void,
  ) {
    this.queue = new WorkQueue('scheduler', (key) => this.sync(key), log);
  }

  start(): void {
    this.unwatch = this.store.watch(PODS, {}, (e) => {
      if (e.type !== 'DELETED' && !specOf<PodSpec>(e.object).nodeName)
        this.queue.add(keyOf(e.object));
    });
  }

  async stop(): Promise<void> {
    this.unwatch?.();
    await this.queue.stop();
  }

  private sync(key: string): SyncResult {
    const [ns, name] = splitKey(key);
    const pod = this.store.get(PODS, ns, name);
    if (!pod || pod.metadata.deletionTimestamp) return;
    const spec = specOf<PodSpec>(pod);
    if (spec.nodeName) return;
    const nodes = this.store.list(NODES).items;
    const fits = nodes.filter((n) => this.fits(pod, n));
    if (fits.length === 0) {
      const message = `0/${nodes.length} nodes are available: ${this.whyNot(pod, nodes)}. preemption: 0/${nodes.length} nodes are available: ${nodes.length} Preemption is not helpful for scheduling.`;
      this.store.update(PODS, ns, name, (o) => {
        o.status = {
          ...(o.status as object),
          phase: 'Pending',
          conditions: [
            {
              type: 'PodScheduled',
              status: 'False',
              lastProbeTime: null,
              lastTransitionTime: this.store.timestamp(),
              reason: 'Unschedulable',
              message,
            },
          ],
        };
      });
      recordEvent(this.store, pod, 'Warning', 'FailedScheduling', message, COMPONENT);
      return 10_000;
    }
    const node = this.pick(pod, fits);
    this.store.update(PODS, ns, name, (o) => {
      o.spec = { ...(o.spec as object), nodeName: node.metadata.name };
      o.status = {
        ...(o.status as object),
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'True',
            lastProbeTime: null,
            lastTransitionTime: this.store.timestamp(),
          },
        ],
      };
    });
    recordEvent(
      this.store,
      pod,
      'Normal',
      'Scheduled',
      `Successfully assigned ${ns}/${name} to ${node.metadata.name}`,
      COMPONENT,
    );
    return undefined;
  }

  private fits(pod: KubeObject, node: KubeObject): boolean {
    const selector = specOf<PodSpec>(pod).nodeSelector ?? {};
    const labels = node.metadata.labels ?? {};
    return (
      !unschedulable(node) &&
      toleratesTaints(pod, node) &&
      Object.entries(selector).every(([k, v]) => labels[k] === v)
    );
  }

  private whyNot(pod: KubeObject, nodes: KubeObject[]): string {
    const cordoned = nodes.filter(unschedulable);
    const tainted = nodes.filter((n) => !unschedulable(n) && !toleratesTaints(pod, n)).length;
    const parts: string[] = [];
    if (cordoned.length > 0) parts.push(`${cordoned.length} node(s) were unschedulable`);
    if (tainted > 0)
      parts.push(
        `${tainted} node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }`,
      );
    const other = nodes.length - tainted - cordoned.length;
    if (other > 0) parts.push(`${other} node(s) didn't match Pod's node affinity/selector`);
    return parts.join(', ');
  }

  private pick(pod: KubeObject, nodes: KubeObject[]): KubeObject {
    const pods = this.store
      .list(PODS)
      .items.filter((p) => !isPodTerminal(p) && specOf<PodSpec>(p).nodeName);
    const constraints = (specOf<PodSpec>(pod).topologySpreadConstraints ??
      []) as SpreadConstraint[];
    const peers = (p: KubeObject): boolean => {
      if (p.metadata.namespace !== pod.metadata.namespace) return false;
      if (constraints.length > 0) {
        return constraints.some((c) => {
          const reqs = requirementsFromLabelSelector(c.labelSelector);
          const keys = c.matchLabelKeys ?? [];
          return (
            matchesLabels(reqs, p.metadata.labels) &&
            keys.every((k) => p.metadata.labels?.[k] === pod.metadata.labels?.[k])
          );
        });
      }
      // The default spreading: pods of the same controller.
      const mine = pod.metadata.ownerReferences?.find((r) => r.controller)?.uid;
      return mine !== undefined && p.metadata.ownerReferences?.some((r) => r.uid === mine) === true;
    };
    const score = (n: KubeObject): [number, number] => {
      const on = pods.filter((p) => specOf<PodSpec>(p).nodeName === n.metadata.name);
      return [on.filter(peers).length, on.length];
    };
    const scored = nodes.map((n) => ({ n, s: score(n) }));
    scored.sort((a, b) => a.s[0] - b.s[0] || a.s[1] - b.s[1]);
    const best = scored[0]?.s ?? [0, 0];
    const tied = scored.filter((x) => x.s[0] === best[0] && x.s[1] === best[1]);
    const chosen = tied[Math.floor(this.random() * tied.length)] ?? scored[0];
    if (!chosen) throw new Error('no node to schedule on');
    return chosen.n;
  }
}
