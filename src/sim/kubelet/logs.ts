import { StoreError, type KubeObject, type Store } from '../store.js';
import { notFound } from '../store.js';
import { PODS } from '../controllers/common.js';
import { specOf, statusOf, type ContainerStatus, type PodSpec } from '../controllers/types.js';

/** Reading container logs, as the API's `pods/log` needs it. */
export interface PodLogs {
  /** `container` undefined means the pod's only container. Throws StoreError 400/404 like the real API. */
  read(
    ns: string,
    pod: string,
    container: string | undefined,
    opts: {
      previous?: boolean;
      tailLines?: number;
      timestamps?: boolean;
      sinceSeconds?: number;
      limitBytes?: number;
    },
  ): string;
  /** `done` resolves when the container ends or the pod is gone. */
  follow(
    ns: string,
    pod: string,
    container: string | undefined,
    opts: { tailLines?: number; timestamps?: boolean },
    onChunk: (text: string) => void,
  ): { stop(): void; done: Promise<void> };
}

interface LogLine {
  time: Date;
  /** Including the trailing newline. */
  text: string;
}

// A container that logs without end must not grow the daemon without end.
const MAX_BYTES = 2 * 1024 * 1024;

/** One run of one container: the lines it wrote and who is following them. */
export class ContainerLog {
  readonly lines: LogLine[] = [];
  private bytes = 0;
  private readonly partial = new Map<string, string>();
  private readonly followers = new Set<(line: LogLine) => void>();
  private readonly endWaiters = new Set<() => void>();
  ended = false;

  constructor(private readonly now: () => Date) {}

  /** Append raw output of one stream; only whole lines become log lines until `end`. */
  write(stream: 'stdout' | 'stderr', chunk: string): void {
    const text = (this.partial.get(stream) ?? '') + chunk;
    const parts = text.split('\n');
    this.partial.set(stream, parts.pop() ?? '');
    for (const p of parts) this.push(`${p}\n`);
  }

  end(): void {
    if (this.ended) return;
    for (const [stream, rest] of this.partial) {
      if (rest !== '') this.push(`${rest}\n`);
      this.partial.set(stream, '');
    }
    this.ended = true;
    for (const w of this.endWaiters) w();
    this.endWaiters.clear();
    this.followers.clear();
  }

  private push(text: string): void {
    const line = { time: this.now(), text };
    this.lines.push(line);
    this.bytes += text.length;
    while (this.bytes > MAX_BYTES && this.lines.length > 1) {
      this.bytes -= this.lines.shift()?.text.length ?? 0;
    }
    for (const f of this.followers) f(line);
  }

  onLine(f: (line: LogLine) => void): () => void {
    this.followers.add(f);
    return () => this.followers.delete(f);
  }

  onEnd(f: () => void): () => void {
    if (this.ended) {
      f();
      return () => undefined;
    }
    this.endWaiters.add(f);
    return () => this.endWaiters.delete(f);
  }
}

interface ContainerLogs {
  current?: ContainerLog;
  previous?: ContainerLog;
}

/** Go's RFC3339Nano drops trailing zeros of the fraction; so do we. */
export function logTimestamp(d: Date): string {
  return d.toISOString().replace(/\.?0+Z$/, 'Z');
}

export class LogBook implements PodLogs {
  private readonly byPod = new Map<string, Map<string, ContainerLogs>>();
  private readonly podGone = new Map<string, Set<() => void>>();

  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
  ) {}

  /** A new run of `container` begins: its last run becomes `previous`. */
  start(podUid: string, container: string): ContainerLog {
    let pod = this.byPod.get(podUid);
    if (!pod) {
      pod = new Map();
      this.byPod.set(podUid, pod);
    }
    const entry = pod.get(container) ?? {};
    if (entry.current) {
      entry.current.end();
      entry.previous = entry.current;
    }
    entry.current = new ContainerLog(this.now);
    pod.set(container, entry);
    return entry.current;
  }

  dropPod(podUid: string): void {
    for (const c of this.byPod.get(podUid)?.values() ?? []) c.current?.end();
    this.byPod.delete(podUid);
    for (const f of this.podGone.get(podUid) ?? []) f();
    this.podGone.delete(podUid);
  }

  private resolve(
    ns: string,
    podName: string,
    container: string | undefined,
    previous: boolean,
  ): { pod: KubeObject; log: ContainerLog } {
    const pod = this.store.get(PODS, ns, podName);
    if (!pod) throw notFound(PODS, podName);
    const podSpec = specOf<PodSpec>(pod);
    const names = (podSpec.containers ?? []).map((c) => c.name);
    const initNames = (podSpec.initContainers ?? []).map((c) => c.name);
    let name = container;
    if (name === undefined || name === '') {
      if (names.length !== 1) {
        throw new StoreError(
          400,
          'BadRequest',
          `a container name must be specified for pod ${podName}, choose one of: [${names.join(' ')}]`,
        );
      }
      name = names[0] ?? '';
    } else if (!names.includes(name) && !initNames.includes(name)) {
      throw new StoreError(400, 'BadRequest', `container ${name} is not valid for pod ${podName}`);
    }
    const entry = this.byPod.get(pod.metadata.uid)?.get(name);
    const log = previous ? entry?.previous : entry?.current;
    if (!log) {
      if (previous) {
        throw new StoreError(
          400,
          'BadRequest',
          `previous terminated container "${name}" in pod "${podName}" not found`,
        );
      }
      const podStatus = statusOf<{
        containerStatuses: ContainerStatus[];
        initContainerStatuses: ContainerStatus[];
      }>(pod);
      const statuses = [
        ...(podStatus.containerStatuses ?? []),
        ...(podStatus.initContainerStatuses ?? []),
      ];
      const reason =
        statuses.find((s) => s.name === name)?.state?.waiting?.reason ?? 'ContainerCreating';
      const why =
        reason === 'ErrImagePull' || reason === 'ImagePullBackOff'
          ? 'trying and failing to pull image'
          : reason;
      throw new StoreError(
        400,
        'BadRequest',
        `container "${name}" in pod "${podName}" is waiting to start: ${why}`,
      );
    }
    return { pod, log };
  }

  read(
    ns: string,
    pod: string,
    container: string | undefined,
    opts: {
      previous?: boolean;
      tailLines?: number;
      timestamps?: boolean;
      sinceSeconds?: number;
      limitBytes?: number;
    },
  ): string {
    const { log } = this.resolve(ns, pod, container, opts.previous === true);
    let lines = log.lines;
    if (opts.sinceSeconds !== undefined) {
      const from = this.now().getTime() - opts.sinceSeconds * 1000;
      lines = lines.filter((l) => l.time.getTime() >= from);
    }
    if (opts.tailLines !== undefined && opts.tailLines >= 0) {
      lines = opts.tailLines === 0 ? [] : lines.slice(-opts.tailLines);
    }
    let text = lines.map((l) => render(l, opts.timestamps === true)).join('');
    if (opts.limitBytes !== undefined && opts.limitBytes >= 0) {
      text = Buffer.from(text).subarray(0, opts.limitBytes).toString();
    }
    return text;
  }

  follow(
    ns: string,
    pod: string,
    container: string | undefined,
    opts: { tailLines?: number; timestamps?: boolean },
    onChunk: (text: string) => void,
  ): { stop(): void; done: Promise<void> } {
    const { pod: podObj, log } = this.resolve(ns, pod, container, false);
    const timestamps = opts.timestamps === true;
    const backlog =
      opts.tailLines !== undefined && opts.tailLines >= 0
        ? opts.tailLines === 0
          ? []
          : log.lines.slice(-opts.tailLines)
        : log.lines;
    const text = backlog.map((l) => render(l, timestamps)).join('');
    if (text !== '') onChunk(text);
    const cleanups: (() => void)[] = [];
    let finish: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      finish = () => {
        for (const c of cleanups.splice(0)) c();
        resolve();
      };
    });
    cleanups.push(log.onLine((l) => onChunk(render(l, timestamps))));
    cleanups.push(log.onEnd(() => finish()));
    const uid = podObj.metadata.uid;
    let waiters = this.podGone.get(uid);
    if (!waiters) {
      waiters = new Set();
      this.podGone.set(uid, waiters);
    }
    const gone = (): void => finish();
    waiters.add(gone);
    cleanups.push(() => this.podGone.get(uid)?.delete(gone));
    return { stop: () => finish(), done };
  }
}

function render(line: LogLine, timestamps: boolean): string {
  return timestamps ? `${logTimestamp(line.time)} ${line.text}` : line.text;
}
