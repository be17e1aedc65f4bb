import type { KubeObject, Store } from '../store.js';
import type { EventType } from '../events.js';
import { errorMessage } from '../controllers/common.js';
import { specOf, type PodSpec } from '../controllers/types.js';
import type { Clock } from './clock.js';
import { ContainerRun } from './container.js';
import { imageKind } from './images.js';
import { startContainer } from './run.js';
import { podPhase, publishStatus } from './status.js';
import { shutdown, stopForced, terminate } from './termination.js';
import type { Kubelet } from './kubelet.js';

/**
 * One pod on its node, from sandbox to removal: it holds the pod's state, which the parts
 * of the kubelet read and change: run.ts (start and restart), prober.ts, termination.ts and
 * status.ts.
 */
export class PodWorker {
  pod: KubeObject;
  readonly spec: PodSpec;
  readonly containers: ContainerRun[];
  readonly inits: ContainerRun[];
  readonly hostIP: string;
  readonly clock: Clock;
  initDone: boolean;
  podIP = '';
  startTime = '';
  terminating = false;
  gone = false;
  /** When every container of a terminating pod is killed, in clock milliseconds. */
  deadline = Infinity;
  warnedProbes = false;
  /** The status and time of each condition's last change. */
  readonly transitions = new Map<string, { status: string; time: string }>();
  private addressReleased = false;
  private forced: Promise<void> | undefined;

  constructor(
    readonly kubelet: Kubelet,
    pod: KubeObject,
    private readonly nodeIndex: number,
  ) {
    this.pod = pod;
    this.clock = kubelet.clock;
    this.spec = structuredClone(specOf<PodSpec>(pod));
    this.hostIP = `127.0.0.${2 + nodeIndex}`;
    this.containers = (this.spec.containers ?? []).map(
      (c) => new ContainerRun(c, imageKind(c.image)),
    );
    this.inits = (this.spec.initContainers ?? []).map(
      (c) => new ContainerRun(c, imageKind(c.image), true),
    );
    this.initDone = this.inits.length === 0;
    if (!this.initDone) {
      for (const c of this.containers) c.state = { waiting: { reason: 'PodInitializing' } };
    }
  }

  get store(): Store {
    return this.kubelet.store;
  }

  /** Init and regular containers alike, for stopping and listing. */
  all(): ContainerRun[] {
    return [...this.inits, ...this.containers];
  }

  pids(): number[] {
    return this.all().flatMap((c) => (c.proc?.pid !== undefined ? [c.proc.pid] : []));
  }

  /** `name_namespace(uid)`, as the kubelet names a pod in messages. */
  podRef(): string {
    const { name, namespace, uid } = this.pod.metadata;
    return `${name}_${namespace ?? ''}(${uid})`;
  }

  event(type: EventType, reason: string, message: string, container?: string): void {
    this.kubelet.event(this.pod, type, reason, message, container);
  }

  publish(): void {
    publishStatus(this);
  }

  async begin(): Promise<void> {
    this.startTime = this.clock.timestamp();
    const ports = this.containers.flatMap((c) => {
      const declared = (c.spec.ports ?? []).map((p) => p.containerPort);
      return c.kind === 'server' && declared.length === 0 ? [8080] : declared;
    });
    try {
      this.podIP = await this.kubelet.addresses.allocate(this.nodeIndex, ports);
    } catch (err) {
      this.event('Warning', 'FailedCreatePodSandBox', errorMessage(err));
      return;
    }
    if (this.terminating || this.gone) {
      this.kubelet.addresses.release(this.podIP);
      this.podIP = '';
      return;
    }
    this.publish();
    const first = this.inits[0];
    if (first) startContainer(this, first);
    else for (const c of this.containers) startContainer(this, c);
  }

  /** An init container finished well: the next one starts, or after the last, the pod's containers. */
  initSucceeded(c: ContainerRun): void {
    const next = this.inits[this.inits.indexOf(c) + 1];
    if (next) {
      startContainer(this, next);
      return;
    }
    this.initDone = true;
    this.publish();
    for (const app of this.containers) startContainer(this, app);
  }

  /** A newer version of the pod object arrived. */
  observe(pod: KubeObject): void {
    this.pod = pod;
    if (pod.metadata.deletionTimestamp && !this.gone) {
      const grace =
        pod.metadata.deletionGracePeriodSeconds ?? this.spec.terminationGracePeriodSeconds ?? 30;
      // Grace 0 is a forced deletion: the object goes at once, its containers a bit later.
      if (grace === 0) void this.stopForced();
      else terminate(this, grace);
    }
  }

  /** The containers' stop after a forced deletion (termination.ts), started once. */
  stopForced(): Promise<void> {
    this.forced ??= stopForced(this);
    return this.forced;
  }

  /** Every container of a terminating pod has stopped: a last status, then the pod goes. */
  finish(): void {
    if (this.gone) return;
    this.publish();
    this.gone = true;
    this.kubelet.removePod(this.pod);
    this.release();
  }

  /**
   * A finished pod (Succeeded/Failed) keeps its podIP in status but, as a torn-down sandbox,
   * no longer holds the address: finished Job pods must not use up a node's range.
   */
  releaseAddressIfDone(): void {
    const phase = podPhase(this);
    if ((phase === 'Succeeded' || phase === 'Failed') && this.podIP && !this.addressReleased) {
      this.kubelet.addresses.release(this.podIP);
      this.addressReleased = true;
    }
  }

  private release(): void {
    if (this.podIP && !this.addressReleased) this.kubelet.addresses.release(this.podIP);
    this.podIP = '';
    this.kubelet.logs.dropPod(this.pod.metadata.uid);
    this.kubelet.finished(this.pod.metadata.uid);
  }

  /**
   * The pod object is gone from the API. After its own termination there is nothing left to
   * do; a pod removed while its containers still run (a forced deletion, grace 0) has them
   * stopped as a kubelet stops them (termination.ts), and keeps its address until they have
   * exited. Resolves then.
   */
  async forget(): Promise<void> {
    const wasGone = this.gone;
    this.gone = true;
    this.terminating = true;
    if (wasGone) return;
    await this.stopForced();
    this.release();
  }

  /** The daemon is stopping: SIGTERM, up to 2 s, SIGKILL, and wait for every exit. */
  shutdown(): Promise<void> {
    return shutdown(this);
  }
}
