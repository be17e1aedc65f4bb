import type { KubeObject, Store } from '../store.js';
import { recordEvent, type EventType } from '../events.js';
import { PODS, deleteQuietly, isPodTerminal } from '../controllers/common.js';
import { specOf, type PodSpec } from '../controllers/types.js';
import type { Random } from '../random.js';
import { RELIST_PERIOD_MS, clockFrom, type Clock } from './clock.js';
import type { CommandOptions } from './command.js';
import { PodAddresses } from './ipam.js';
import type { LogBook } from './logs.js';
import { PodWorker } from './pod-worker.js';

const COMPONENT = 'kubelet';

export interface KubeletOptions extends CommandOptions {
  nodeNames: string[];
  /** The cluster's second octet: pod addresses are 127.<octet>.<node>.<n>. */
  addressOctet: number;
  random: Random;
  /** The kubelet's one time source (see clock.ts). */
  now: () => Date;
  log: (message: string) => void;
}

/** The simulated kubelets of every node: runs the pods bound to them as local processes. */
export class Kubelet {
  private readonly workers = new Map<string, PodWorker>();
  /** Pods removed from the API whose processes are still being stopped. */
  private readonly removed = new Set<PodWorker>();
  readonly addresses: PodAddresses;
  readonly clock: Clock;
  private unwatch: (() => void) | undefined;
  private stopping = false;
  private startedAt = 0;

  constructor(
    readonly store: Store,
    readonly logs: LogBook,
    readonly options: KubeletOptions,
  ) {
    this.addresses = new PodAddresses(options.addressOctet);
    this.clock = clockFrom(options.now);
  }

  start(): void {
    this.startedAt = this.clock.now();
    this.unwatch = this.store.watch(PODS, {}, (e) => {
      if (this.stopping) return;
      const pod = e.object;
      const uid = pod.metadata.uid;
      const worker = this.workers.get(uid);
      if (e.type === 'DELETED') {
        if (worker) {
          this.workers.delete(uid);
          this.removed.add(worker);
          void worker.forget().finally(() => this.removed.delete(worker));
        } else this.logs.dropPod(uid);
        return;
      }
      const node = specOf<PodSpec>(pod).nodeName;
      if (!node || !this.options.nodeNames.includes(node)) return;
      if (worker) {
        worker.observe(pod);
        return;
      }
      if (pod.metadata.deletionTimestamp) {
        // Nothing of it runs here: there is nothing to stop.
        this.removePod(pod);
        return;
      }
      if (isPodTerminal(pod)) return;
      const w = new PodWorker(this, pod, this.options.nodeNames.indexOf(node));
      this.workers.set(uid, w);
      void w.begin();
    });
  }

  /** Milliseconds until the first relist (RELIST_PERIOD_MS) at least `atLeastMs` from now. */
  untilRelist(atLeastMs = 0): number {
    const since = this.clock.now() + atLeastMs - this.startedAt;
    const phase = ((since % RELIST_PERIOD_MS) + RELIST_PERIOD_MS) % RELIST_PERIOD_MS;
    return atLeastMs + (phase === 0 ? 0 : RELIST_PERIOD_MS - phase);
  }

  /** Every container process ends: SIGTERM, a short wait, then SIGKILL. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.unwatch?.();
    const all = [...this.workers.values(), ...this.removed];
    await Promise.all(all.map((w) => w.shutdown()));
    this.workers.clear();
    this.removed.clear();
  }

  /** PIDs of the running container processes (for tests and status). */
  pids(): number[] {
    return [...this.workers.values(), ...this.removed].flatMap((w) => w.pids());
  }

  /** The last step of a pod's termination: its delete with grace 0, if it is still this pod. */
  removePod(pod: KubeObject): void {
    deleteQuietly(this.store, PODS, pod, { gracePeriodSeconds: 0 });
  }

  finished(uid: string): void {
    this.workers.delete(uid);
  }

  event(
    pod: KubeObject,
    type: EventType,
    reason: string,
    message: string,
    container?: string,
  ): void {
    const spec = specOf<PodSpec>(pod);
    const list = (spec.initContainers ?? []).some((c) => c.name === container)
      ? 'initContainers'
      : 'containers';
    recordEvent(this.store, pod, type, reason, message, COMPONENT, {
      host: spec.nodeName ?? '',
      ...(container ? { fieldPath: `spec.${list}{${container}}` } : {}),
    });
  }
}
