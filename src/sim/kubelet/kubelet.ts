import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import type { KubeObject, Store } from '../store.js';
import { recordEvent, type EventType } from '../events.js';
import {
  PODS,
  SERVICES,
  errorMessage,
  isPodTerminal,
  podCondition,
} from '../controllers/common.js';
import {
  specOf,
  statusOf,
  type Condition,
  type Container,
  type ContainerState,
  type ContainerStatus,
  type LifecycleHandler,
  type PodSpec,
  type Probe,
  type ServiceSpec,
} from '../controllers/types.js';
import type { Random } from '../random.js';
import { ContainerConfigError, containerEnv, expandReferences, serviceLinkVars } from './env.js';
import { UNKNOWN_IMAGE_MESSAGE, imageID, imageKind, type ImageKind } from './images.js';
import { PodAddresses } from './ipam.js';
import type { ContainerLog, LogBook } from './logs.js';
import { httpGet, isSupportedProbe, runProbe } from './probes.js';
import { exitCodeOf, signalGroup, spawnContainer } from './process.js';

const COMPONENT = 'kubelet';
/** The real kubelet backs off 10 s doubling to 5 min; a teaching stand-in caps it at 10 s. */
const BACKOFF_BASE_MS = 1000;
const BACKOFF_CAP_MS = 10_000;
/** After running this long, a container's crash count starts over (the real one uses 10 min). */
const BACKOFF_RESET_MS = 2 * BACKOFF_CAP_MS;
/** The real kubelet gives a container at least 2 s after its preStop hook. */
const MIN_GRACE_AFTER_HOOK_MS = 2000;

export interface KubeletOptions {
  nodeNames: string[];
  /** The cluster's second octet: pod addresses are 127.<octet>.<node>.<n>. */
  addressOctet: number;
  serverEntry: string;
  nodeBinary: string;
  curlBinary: string;
  random: Random;
  now: () => Date;
  log: (message: string) => void;
  /** Where a Service port's proxy listens. */
  serviceTarget: (
    ns: string,
    svc: string,
    port: number,
  ) => { host: string; port: number } | undefined;
}

/** The simulated kubelets of every node: runs the pods bound to them as local processes. */
export class Kubelet {
  private readonly workers = new Map<string, PodWorker>();
  readonly addresses: PodAddresses;
  private unwatch: (() => void) | undefined;
  private stopping = false;

  constructor(
    readonly store: Store,
    readonly logs: LogBook,
    readonly options: KubeletOptions,
  ) {
    this.addresses = new PodAddresses(options.addressOctet);
  }

  start(): void {
    this.unwatch = this.store.watch(PODS, {}, (e) => {
      if (this.stopping) return;
      const pod = e.object;
      const uid = pod.metadata.uid;
      const worker = this.workers.get(uid);
      if (e.type === 'DELETED') {
        if (worker) {
          this.workers.delete(uid);
          worker.forget();
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

  /** Every container process ends: SIGTERM, a short wait, then SIGKILL. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.unwatch?.();
    await Promise.all([...this.workers.values()].map((w) => w.shutdown()));
    this.workers.clear();
  }

  /** PIDs of the running container processes (for tests and status). */
  pids(): number[] {
    return [...this.workers.values()].flatMap((w) => w.pids());
  }

  removePod(pod: KubeObject): void {
    const current = this.store.get(PODS, pod.metadata.namespace, pod.metadata.name);
    if (current && current.metadata.uid === pod.metadata.uid) {
      this.store.remove(PODS, pod.metadata.namespace, pod.metadata.name);
    }
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

interface ProbeState {
  successes: number;
  failures: number;
}

/** One run-and-restart history of one container of a pod. */
class ContainerRun {
  proc: ChildProcess | undefined;
  state: ContainerState = { waiting: { reason: 'ContainerCreating' } };
  lastState: ContainerState = {};
  restartCount = 0;
  crashes = 0;
  everStarted = false;
  ready = false;
  started = false;
  containerID: string | undefined;
  startedAtMs = 0;
  log: ContainerLog | undefined;
  /** Bumped on each start: timers of an earlier run see a different number and stop. */
  runId = 0;
  readonly timers = new Set<NodeJS.Timeout>();
  exited: Promise<void> = Promise.resolve();
  private resolveExit: () => void = () => undefined;
  killTimer: NodeJS.Timeout | undefined;
  killAt = Infinity;
  /** Why the kubelet is stopping it, if it is: restarts after a failed probe differ from deletion. */
  stopping: 'probe' | 'termination' | undefined;

  constructor(
    readonly spec: Container,
    readonly kind: ImageKind,
    /** Init containers run one after another, to completion, before the others start. */
    readonly init = false,
  ) {}

  running(): boolean {
    return this.proc !== undefined;
  }

  armExit(): void {
    this.exited = new Promise((resolve) => {
      this.resolveExit = resolve;
    });
  }

  markExited(): void {
    this.resolveExit();
  }

  clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

class PodWorker {
  private pod: KubeObject;
  private readonly spec: PodSpec;
  private readonly containers: ContainerRun[];
  private readonly inits: ContainerRun[];
  private initDone: boolean;
  private addressReleased = false;
  private podIP = '';
  private readonly hostIP: string;
  private startTime = '';
  private terminating = false;
  private gone = false;
  private deadline = Infinity;
  private readonly transitions = new Map<string, { status: string; time: string }>();
  private warnedProbes = false;

  constructor(
    private readonly kubelet: Kubelet,
    pod: KubeObject,
    private readonly nodeIndex: number,
  ) {
    this.pod = pod;
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

  /** Init and regular containers alike, for stopping and listing. */
  private all(): ContainerRun[] {
    return [...this.inits, ...this.containers];
  }

  private get store(): Store {
    return this.kubelet.store;
  }

  private now(): Date {
    return this.kubelet.options.now();
  }

  pids(): number[] {
    return this.all().flatMap((c) => (c.proc?.pid !== undefined ? [c.proc.pid] : []));
  }

  async begin(): Promise<void> {
    this.startTime = this.store.timestamp();
    const ports = this.containers.flatMap((c) => {
      const declared = (c.spec.ports ?? []).map((p) => p.containerPort);
      return c.kind === 'server' && declared.length === 0 ? [8080] : declared;
    });
    try {
      this.podIP = await this.kubelet.addresses.allocate(this.nodeIndex, ports);
    } catch (err) {
      this.kubelet.event(this.pod, 'Warning', 'FailedCreatePodSandBox', errorMessage(err));
      return;
    }
    if (this.terminating || this.gone) {
      this.kubelet.addresses.release(this.podIP);
      this.podIP = '';
      return;
    }
    this.publish();
    const first = this.inits[0];
    if (first) this.startContainer(first);
    else for (const c of this.containers) this.startContainer(c);
  }

  /** An init container finished well: the next one starts, or after the last, the pod's containers. */
  private initSucceeded(c: ContainerRun): void {
    const next = this.inits[this.inits.indexOf(c) + 1];
    if (next) {
      this.startContainer(next);
      return;
    }
    this.initDone = true;
    this.publish();
    for (const app of this.containers) this.startContainer(app);
  }

  /** A newer version of the pod object arrived. */
  observe(pod: KubeObject): void {
    this.pod = pod;
    if (pod.metadata.deletionTimestamp) {
      const grace =
        pod.metadata.deletionGracePeriodSeconds ?? this.spec.terminationGracePeriodSeconds ?? 30;
      this.terminate(grace);
    }
  }

  // ---- containers ------------------------------------------------------------------

  private command(c: ContainerRun, env: Record<string, string>): { file: string; args: string[] } {
    const opts = this.kubelet.options;
    const expand = (list: string[] | undefined) =>
      (list ?? []).map((a) => expandReferences(a, env));
    if (c.kind === 'server') {
      if ((c.spec.command ?? []).length > 0 || (c.spec.args ?? []).length > 0) {
        throw new ContainerConfigError(
          'the embedded cluster runs multi-replica-app images only with their own entrypoint (no command or args)',
        );
      }
      return { file: opts.nodeBinary, args: [opts.serverEntry] };
    }
    // The curl image's entrypoint runs `curl` when the first argument is an option or `curl`.
    let argv = [...expand(c.spec.command), ...expand(c.spec.args)];
    if (argv[0] === 'curl' || argv[0] === '/usr/bin/curl') argv = argv.slice(1);
    else if (argv.length > 0 && !argv[0]?.startsWith('-') && !/^[a-z]+:\/\//i.test(argv[0] ?? '')) {
      throw new ContainerConfigError(
        `the embedded cluster runs curlimages/curl only as curl (command or args must start with curl, an option or a URL), not "${argv[0] ?? ''}"`,
      );
    }
    // -q first: no ~/.curlrc of this machine's user may change what the pod does.
    return {
      file: opts.curlBinary,
      args: ['-q', ...this.connectTo(), '--interface', this.podIP, ...argv],
    };
  }

  /** Service names (short and qualified) mapped to where their proxies listen. */
  private connectTo(): string[] {
    const ns = this.pod.metadata.namespace ?? '';
    const out: string[] = [];
    for (const svc of this.store.list(SERVICES).items) {
      const spec = specOf<ServiceSpec>(svc);
      const name = svc.metadata.name;
      const sns = svc.metadata.namespace ?? '';
      const names = [`${name}.${sns}`, `${name}.${sns}.svc`, `${name}.${sns}.svc.cluster.local`];
      if (sns === ns) names.unshift(name);
      for (const p of spec.ports ?? []) {
        const target = this.kubelet.options.serviceTarget(sns, name, p.port);
        if (!target) continue;
        for (const n of names)
          out.push('--connect-to', `${n}:${p.port}:${target.host}:${target.port}`);
        if (spec.clusterIP && target.port !== p.port) {
          out.push('--connect-to', `${spec.clusterIP}:${p.port}:${target.host}:${target.port}`);
        }
      }
    }
    return out;
  }

  private serviceVars(): Record<string, string> {
    if (this.spec.enableServiceLinks === false) return {};
    const ns = this.pod.metadata.namespace ?? '';
    const services = this.store
      .list(SERVICES, { namespace: ns })
      .items.map((s) => {
        const spec = specOf<ServiceSpec>(s);
        return {
          name: s.metadata.name,
          clusterIP: spec.clusterIP ?? '',
          ports: (spec.ports ?? []).map((p) => ({
            ...p,
            port: this.kubelet.options.serviceTarget(ns, s.metadata.name, p.port)?.port ?? p.port,
          })),
        };
      })
      .filter((s) => s.clusterIP !== '' && s.clusterIP !== 'None');
    return serviceLinkVars(services);
  }

  private startContainer(c: ContainerRun): void {
    if (this.terminating || this.gone) return;
    const name = c.spec.name;
    const image = c.spec.image ?? '';
    if (c.kind === 'unknown') {
      c.state = { waiting: { reason: 'ErrImagePull', message: UNKNOWN_IMAGE_MESSAGE } };
      this.kubelet.event(this.pod, 'Normal', 'Pulling', `Pulling image "${image}"`, name);
      this.kubelet.event(
        this.pod,
        'Warning',
        'Failed',
        `Failed to pull image "${image}": ${UNKNOWN_IMAGE_MESSAGE}`,
        name,
      );
      this.kubelet.event(this.pod, 'Warning', 'Failed', 'Error: ErrImagePull', name);
      this.publish();
      return;
    }
    let env: Record<string, string>;
    let cmd: { file: string; args: string[] };
    try {
      env = containerEnv(this.pod, c.spec, this.podIP, this.hostIP, this.serviceVars());
      cmd = this.command(c, env);
    } catch (err) {
      const message = errorMessage(err);
      c.state = { waiting: { reason: 'CreateContainerConfigError', message } };
      this.kubelet.event(this.pod, 'Warning', 'Failed', `Error: ${message}`, name);
      this.publish();
      return;
    }
    const processEnv: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOSTNAME: this.pod.metadata.name,
      HOME: tmpdir(),
      ...env,
    };
    if (c.kind === 'server') {
      processEnv.HOST = this.podIP;
      if (env.PORT === undefined)
        processEnv.PORT = String(c.spec.ports?.[0]?.containerPort ?? 8080);
    }
    if (!c.everStarted) {
      const pullPolicy = (c.spec as { imagePullPolicy?: string }).imagePullPolicy;
      if (pullPolicy === 'Always') {
        this.kubelet.event(this.pod, 'Normal', 'Pulling', `Pulling image "${image}"`, name);
        this.kubelet.event(
          this.pod,
          'Normal',
          'Pulled',
          `Successfully pulled image "${image}" in 0s (0s including waiting). Image size: 0 bytes.`,
          name,
        );
      } else {
        this.kubelet.event(
          this.pod,
          'Normal',
          'Pulled',
          `Container image "${image}" already present on machine`,
          name,
        );
      }
    } else {
      this.kubelet.event(
        this.pod,
        'Normal',
        'Pulled',
        `Container image "${image}" already present on machine`,
        name,
      );
    }
    this.kubelet.event(this.pod, 'Normal', 'Created', `Created container: ${name}`, name);
    let proc: ChildProcess;
    try {
      proc = spawnContainer(cmd.file, cmd.args, processEnv, tmpdir());
    } catch (err) {
      this.startFailed(c, errorMessage(err));
      return;
    }
    c.runId += 1;
    const runId = c.runId;
    if (c.everStarted) c.restartCount += 1;
    c.everStarted = true;
    c.proc = proc;
    c.stopping = undefined;
    c.ready = false;
    c.started = false;
    c.startedAtMs = Date.now();
    c.containerID = `sim://${Math.floor(this.kubelet.options.random() * 2 ** 52)
      .toString(16)
      .padStart(13, '0')}${Date.now().toString(16)}`;
    c.state = { running: { startedAt: this.store.timestamp() } };
    c.log = this.kubelet.logs.start(this.pod.metadata.uid, name);
    c.armExit();
    const log = c.log;
    proc.stdout?.setEncoding('utf8');
    proc.stderr?.setEncoding('utf8');
    proc.stdout?.on('data', (chunk: string) => log.write('stdout', chunk));
    proc.stderr?.on('data', (chunk: string) => log.write('stderr', chunk));
    let spawnError: Error | undefined;
    proc.once('error', (err) => {
      spawnError = err;
      // A process that never started emits no 'close' of its own on every Node version.
      if (proc.pid === undefined) this.onExit(c, runId, null, null, err);
    });
    // 'close' (not 'exit'): the output is complete only once the pipes have closed.
    proc.once('close', (code, signal) => this.onExit(c, runId, code, signal, spawnError));
    this.kubelet.event(this.pod, 'Normal', 'Started', `Started container ${name}`, name);
    this.publish();
    if (!c.init) this.startProbes(c, runId);
  }

  private startFailed(c: ContainerRun, message: string): void {
    c.state = { waiting: { reason: 'RunContainerError', message } };
    this.kubelet.event(this.pod, 'Warning', 'Failed', `Error: ${message}`, c.spec.name);
    this.publish();
  }

  private onExit(
    c: ContainerRun,
    runId: number,
    code: number | null,
    signal: NodeJS.Signals | null,
    error: Error | undefined,
  ): void {
    if (c.runId !== runId || !c.proc) return;
    c.proc = undefined;
    c.clearTimers();
    if (c.killTimer) clearTimeout(c.killTimer);
    c.killTimer = undefined;
    c.killAt = Infinity;
    c.log?.end();
    const exitCode = error && code === null && signal === null ? 128 : exitCodeOf(code, signal);
    const startedAt = c.state.running?.startedAt;
    const terminated: ContainerState = {
      terminated: {
        exitCode,
        reason: error ? 'StartError' : exitCode === 0 ? 'Completed' : 'Error',
        ...(error ? { message: error.message } : {}),
        ...(startedAt ? { startedAt } : {}),
        finishedAt: this.store.timestamp(),
        ...(c.containerID ? { containerID: c.containerID } : {}),
      },
    };
    c.ready = false;
    c.started = false;
    c.markExited();
    if (this.terminating || this.gone) {
      c.state = terminated;
      if (!this.gone) this.publish();
      return;
    }
    const policy = this.spec.restartPolicy ?? 'Always';
    // A failed init container is retried unless the pod never restarts anything.
    const restart = c.init
      ? exitCode !== 0 && policy !== 'Never'
      : policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
    if (!restart) {
      c.state = terminated;
      if (c.init && exitCode === 0) c.ready = true;
      this.publish();
      if (c.init && exitCode === 0) this.initSucceeded(c);
      else this.releaseAddressIfDone();
      return;
    }
    c.lastState = terminated;
    if (Date.now() - c.startedAtMs >= BACKOFF_RESET_MS) c.crashes = 0;
    c.crashes += 1;
    const delay =
      c.crashes <= 1 ? 0 : Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (c.crashes - 2));
    if (delay === 0) {
      c.state = terminated;
      this.startContainer(c);
      return;
    }
    const podRef = `${this.pod.metadata.name}_${this.pod.metadata.namespace ?? ''}(${this.pod.metadata.uid})`;
    c.state = {
      waiting: {
        reason: 'CrashLoopBackOff',
        message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${c.spec.name} pod=${podRef}`,
      },
    };
    this.kubelet.event(
      this.pod,
      'Warning',
      'BackOff',
      `Back-off restarting failed container ${c.spec.name} in pod ${podRef}`,
      c.spec.name,
    );
    this.publish();
    const t = setTimeout(() => {
      c.timers.delete(t);
      this.startContainer(c);
    }, delay);
    c.timers.add(t);
  }

  // ---- probes ------------------------------------------------------------------------

  private startProbes(c: ContainerRun, runId: number): void {
    const { startupProbe, readinessProbe, livenessProbe } = c.spec;
    const unsupported = [startupProbe, readinessProbe, livenessProbe].some(
      (p) => p !== undefined && !isSupportedProbe(p),
    );
    if (unsupported && !this.warnedProbes) {
      this.warnedProbes = true;
      this.kubelet.event(
        this.pod,
        'Warning',
        'ProbeWarning',
        'exec and grpc probes are not supported by the embedded cluster; they are treated as passing',
        c.spec.name,
      );
    }
    if (startupProbe) {
      this.probeLoop(c, runId, startupProbe, (ok, state, message) => {
        if (ok) {
          if (state.successes >= (startupProbe.successThreshold ?? 1)) {
            c.started = true;
            this.publish();
            this.afterStarted(c, runId);
            return false;
          }
          return true;
        }
        this.kubelet.event(
          this.pod,
          'Warning',
          'Unhealthy',
          `Startup probe failed: ${message}`,
          c.spec.name,
        );
        if (state.failures >= (startupProbe.failureThreshold ?? 3)) {
          this.restartForProbe(c, 'startup', startupProbe);
          return false;
        }
        return true;
      });
    } else {
      c.started = true;
      this.afterStarted(c, runId);
    }
  }

  private afterStarted(c: ContainerRun, runId: number): void {
    const { readinessProbe, livenessProbe } = c.spec;
    if (readinessProbe) {
      this.probeLoop(c, runId, readinessProbe, (ok, state, message) => {
        if (ok) {
          if (!c.ready && state.successes >= (readinessProbe.successThreshold ?? 1)) {
            c.ready = true;
            this.publish();
          }
        } else {
          this.kubelet.event(
            this.pod,
            'Warning',
            'Unhealthy',
            `Readiness probe failed: ${message}`,
            c.spec.name,
          );
          if (c.ready && state.failures >= (readinessProbe.failureThreshold ?? 3)) {
            c.ready = false;
            this.publish();
          }
        }
        return true;
      });
    } else {
      c.ready = true;
      this.publish();
    }
    if (livenessProbe) {
      this.probeLoop(c, runId, livenessProbe, (ok, state, message) => {
        if (ok) return true;
        this.kubelet.event(
          this.pod,
          'Warning',
          'Unhealthy',
          `Liveness probe failed: ${message}`,
          c.spec.name,
        );
        if (state.failures >= (livenessProbe.failureThreshold ?? 3)) {
          this.restartForProbe(c, 'liveness', livenessProbe);
          return false;
        }
        return true;
      });
    }
  }

  /**
   * Run `probe` after its initial delay and then every period, while this run of the
   * container lives; `onResult` returns false to stop probing.
   */
  private probeLoop(
    c: ContainerRun,
    runId: number,
    probe: Probe,
    onResult: (ok: boolean, state: ProbeState, message: string) => boolean,
  ): void {
    const state: ProbeState = { successes: 0, failures: 0 };
    const period = Math.max(1, probe.periodSeconds ?? 10) * 1000;
    const tick = async (): Promise<void> => {
      if (c.runId !== runId || !c.running() || this.terminating || c.stopping) return;
      const result = await runProbe(probe, c.spec, this.podIP);
      if (c.runId !== runId || !c.running() || this.terminating || c.stopping) return;
      if (result.ok) {
        state.successes += 1;
        state.failures = 0;
      } else {
        state.failures += 1;
        state.successes = 0;
      }
      if (!onResult(result.ok, state, result.message)) return;
      schedule(period);
    };
    const schedule = (ms: number): void => {
      const t = setTimeout(() => {
        c.timers.delete(t);
        void tick();
      }, ms);
      c.timers.add(t);
    };
    schedule(Math.max(0, probe.initialDelaySeconds ?? 0) * 1000);
  }

  private restartForProbe(c: ContainerRun, which: 'startup' | 'liveness', probe: Probe): void {
    this.kubelet.event(
      this.pod,
      'Normal',
      'Killing',
      `Container ${c.spec.name} failed ${which} probe, will be restarted`,
      c.spec.name,
    );
    const grace =
      probe.terminationGracePeriodSeconds ?? this.spec.terminationGracePeriodSeconds ?? 30;
    c.stopping = 'probe';
    c.clearTimers();
    void this.stopContainer(c, Date.now() + grace * 1000);
  }

  // ---- stopping ----------------------------------------------------------------------

  /** preStop, SIGTERM, and SIGKILL at `deadline` (at least 2 s after the hook). */
  private async stopContainer(c: ContainerRun, deadline: number): Promise<void> {
    const pid = c.proc?.pid;
    if (!c.running()) return;
    const preStop = c.spec.lifecycle?.preStop;
    if (preStop && deadline - Date.now() > 0) {
      await this.runPreStop(c, preStop, () =>
        c.stopping === 'termination' ? this.deadline : deadline,
      );
      const asked = deadline;
      deadline = Math.max(deadline, Date.now() + MIN_GRACE_AFTER_HOOK_MS);
      // A second delete with a shorter grace period overrides even that minimum.
      if (c.stopping === 'termination' && this.deadline < asked) {
        deadline = Math.max(this.deadline, Date.now());
      }
    }
    if (!c.running()) return;
    if (deadline - Date.now() <= 0) signalGroup(pid, 'SIGKILL');
    else {
      signalGroup(pid, 'SIGTERM');
      this.killAt(c, deadline);
    }
    await c.exited;
  }

  private killAt(c: ContainerRun, at: number): void {
    if (!c.running() || at >= c.killAt) return;
    if (c.killTimer) clearTimeout(c.killTimer);
    c.killAt = at;
    const pid = c.proc?.pid;
    c.killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), Math.max(0, at - Date.now()));
  }

  private async runPreStop(
    c: ContainerRun,
    hook: LifecycleHandler,
    deadline: () => number,
  ): Promise<void> {
    // Bounded by the deadline, which a shorter grace period can still move forward.
    const cutoff = new Promise<void>((resolve) => {
      const check = (): void => {
        if (Date.now() >= deadline() || !c.running()) resolve();
        else {
          const t = setTimeout(check, Math.min(100, Math.max(1, deadline() - Date.now())));
          t.unref();
        }
      };
      check();
    });
    if (hook.sleep) {
      const ms = Math.max(0, hook.sleep.seconds) * 1000;
      await Promise.race([new Promise<void>((r) => setTimeout(r, ms).unref()), cutoff]);
      return;
    }
    if (hook.httpGet) {
      const timeout = Math.max(1, deadline() - Date.now());
      const result = await Promise.race([
        httpGet(hook.httpGet, c.spec, this.podIP, timeout),
        cutoff.then(() => ({ ok: true, message: '' })),
      ]);
      if (!result.ok) {
        this.kubelet.event(
          this.pod,
          'Warning',
          'FailedPreStopHook',
          `PreStopHook failed: HTTP lifecycle hook (${hook.httpGet.path ?? '/'}) for Container "${c.spec.name}" in Pod "${this.pod.metadata.name}_${this.pod.metadata.namespace ?? ''}(${this.pod.metadata.uid})" failed - error: ${result.message}`,
          c.spec.name,
        );
      }
      return;
    }
    const kind = hook.exec ? 'exec' : 'tcpSocket';
    this.kubelet.event(
      this.pod,
      'Warning',
      'FailedPreStopHook',
      `PreStopHook failed: ${kind} lifecycle hooks are not supported by the embedded cluster; skipped`,
      c.spec.name,
    );
  }

  /** Graceful deletion: every container stopped within the grace period, then the pod removed. */
  private terminate(graceSeconds: number): void {
    const deadline = Date.now() + Math.max(0, graceSeconds) * 1000;
    if (this.terminating) {
      if (deadline < this.deadline) {
        this.deadline = deadline;
        for (const c of this.all()) this.killAt(c, deadline);
      }
      return;
    }
    this.terminating = true;
    this.deadline = deadline;
    for (const c of this.all()) {
      c.clearTimers();
      c.ready = false;
      if (!c.running() && c.state.waiting) {
        c.state = c.lastState.terminated ? { terminated: c.lastState.terminated } : c.state;
      }
    }
    this.publish();
    const stops = this.all()
      .filter((c) => c.running())
      .map((c) => {
        this.kubelet.event(
          this.pod,
          'Normal',
          'Killing',
          `Stopping container ${c.spec.name}`,
          c.spec.name,
        );
        const wasProbe = c.stopping === 'probe';
        c.stopping = 'termination';
        if (wasProbe) {
          // Already being stopped; only the deadline may come sooner.
          this.killAt(c, deadline);
          return c.exited;
        }
        return this.stopContainer(c, deadline);
      });
    void Promise.all(stops).then(() => this.finish());
  }

  private finish(): void {
    if (this.gone) return;
    this.gone = true;
    this.publishFinal();
    this.kubelet.removePod(this.pod);
    this.release();
  }

  private publishFinal(): void {
    this.gone = false;
    this.publish();
    this.gone = true;
  }

  /**
   * A finished pod (Succeeded/Failed) keeps its podIP in status but, as a torn-down sandbox,
   * no longer holds the address: finished Job pods must not use up a node's range.
   */
  private releaseAddressIfDone(): void {
    const phase = this.phase();
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

  /** The pod object is gone from the API: stop everything now. */
  forget(): void {
    const wasGone = this.gone;
    this.gone = true;
    this.terminating = true;
    for (const c of this.all()) {
      c.clearTimers();
      signalGroup(c.proc?.pid, 'SIGKILL');
    }
    if (!wasGone) this.release();
  }

  /** The daemon is stopping: SIGTERM, up to 2 s, SIGKILL, and wait for every exit. */
  async shutdown(): Promise<void> {
    this.gone = true;
    this.terminating = true;
    const running = this.all().filter((c) => c.running());
    for (const c of this.all()) c.clearTimers();
    for (const c of running) signalGroup(c.proc?.pid, 'SIGTERM');
    const all = Promise.all(running.map((c) => c.exited));
    const timeout = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
    await Promise.race([all, timeout(2000)]);
    for (const c of running) if (c.running()) signalGroup(c.proc?.pid, 'SIGKILL');
    await Promise.race([all, timeout(2000)]);
  }

  // ---- status ------------------------------------------------------------------------

  private phase(): string {
    const policy = this.spec.restartPolicy ?? 'Always';
    if (!this.initDone) {
      const failed = this.inits.some(
        (c) => c.state.terminated !== undefined && c.state.terminated.exitCode !== 0,
      );
      return failed && policy === 'Never' && !this.inits.some((c) => c.running())
        ? 'Failed'
        : 'Pending';
    }
    const states = this.containers.map((c) => c.state);
    const allTerminated = states.length > 0 && states.every((s) => s.terminated !== undefined);
    if (allTerminated && (policy !== 'Always' || this.terminating)) {
      if (this.terminating) return statusOf<{ phase: string }>(this.pod).phase ?? 'Running';
      return states.every((s) => s.terminated?.exitCode === 0) ? 'Succeeded' : 'Failed';
    }
    if (this.containers.some((c) => c.running() || c.everStarted)) return 'Running';
    return 'Pending';
  }

  private condition(type: string, status: string, extra: Partial<Condition> = {}): Condition {
    const now = this.store.timestamp();
    const before = this.transitions.get(type);
    const fromPod = podCondition(this.pod, type);
    let time = before?.status === status ? before.time : now;
    if (!before && fromPod?.status === status && fromPod.lastTransitionTime)
      time = fromPod.lastTransitionTime;
    this.transitions.set(type, { status, time });
    return { type, status, lastProbeTime: null, lastTransitionTime: time, ...extra };
  }

  private publish(): void {
    if (this.gone) return;
    const phase = this.phase();
    const terminal = phase === 'Succeeded' || phase === 'Failed';
    const unready = this.containers.filter((c) => !c.ready).map((c) => c.spec.name);
    const ready = unready.length === 0 && !terminal;
    const notReady: Partial<Condition> = terminal
      ? { reason: 'PodCompleted' }
      : {
          reason: 'ContainersNotReady',
          message: `containers with unready status: [${unready.join(' ')}]`,
        };
    const scheduled = podCondition(this.pod, 'PodScheduled');
    const conditions: Condition[] = [
      this.condition('PodReadyToStartContainers', terminal ? 'False' : 'True'),
      this.initDone
        ? this.condition('Initialized', 'True')
        : this.condition('Initialized', 'False', {
            reason: 'ContainersNotInitialized',
            message: `containers with incomplete status: [${this.inits
              .filter((c) => !c.ready)
              .map((c) => c.spec.name)
              .join(' ')}]`,
          }),
      this.condition('Ready', ready ? 'True' : 'False', ready ? {} : notReady),
      this.condition('ContainersReady', ready ? 'True' : 'False', ready ? {} : notReady),
      {
        type: 'PodScheduled',
        status: 'True',
        lastProbeTime: null,
        lastTransitionTime: scheduled?.lastTransitionTime ?? this.startTime,
      },
    ];
    const toStatus = (c: ContainerRun): ContainerStatus => ({
      name: c.spec.name,
      state: c.state,
      lastState: c.lastState,
      ready: c.ready,
      restartCount: c.restartCount,
      image: c.spec.image ?? '',
      imageID: c.kind === 'unknown' || !c.everStarted ? '' : imageID(c.spec.image ?? ''),
      ...(c.containerID ? { containerID: c.containerID } : {}),
      started: c.started && c.running(),
    });
    const containerStatuses = this.containers.map(toStatus);
    const initContainerStatuses = this.inits.map(toStatus);
    const qosClass = statusOf<{ qosClass: string }>(this.pod).qosClass;
    const status = {
      phase,
      conditions,
      hostIP: this.hostIP,
      hostIPs: [{ ip: this.hostIP }],
      ...(this.podIP ? { podIP: this.podIP, podIPs: [{ ip: this.podIP }] } : {}),
      startTime: this.startTime,
      ...(initContainerStatuses.length > 0 ? { initContainerStatuses } : {}),
      containerStatuses,
      ...(qosClass ? { qosClass } : {}),
    };
    const uid = this.pod.metadata.uid;
    try {
      const updated = this.store.update(
        PODS,
        this.pod.metadata.namespace,
        this.pod.metadata.name,
        (o) => {
          if (o.metadata.uid !== uid) return false;
          o.status = status;
        },
      );
      if (updated.metadata.uid === uid) this.pod = updated;
    } catch {
      // The pod was removed meanwhile: the watch brings its DELETED event.
    }
  }
}
