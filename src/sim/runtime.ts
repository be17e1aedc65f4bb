import { createSocket } from 'node:dgram';
import type { Store } from './store.js';
import { registerNodes } from './nodes.js';
import { LogBook, type PodLogs } from './kubelet/logs.js';
import { seededRandom, type Random } from './random.js';

export type { PodLogs } from './kubelet/logs.js';

export interface RuntimeOptions {
  /** Simulated nodes, kind's names: replica-demo-control-plane, replica-demo-worker, ... Default 3. */
  nodes: number;
  /** Seeds every random choice the runtime makes (proxy picks, scheduling ties). */
  seed?: string;
  /** Absolute path of the compiled server (dist/server/main.js) that `multi-replica-app` runs. */
  serverEntry: string;
  /** Default: the Node.js running the daemon. */
  nodeBinary?: string;
  /** Default: `curl` on PATH. */
  curlBinary?: string;
  now?: () => Date;
}

/** The embedded cluster's moving parts: nodes, controllers, kubelet and Service proxy. */
export class Runtime {
  readonly logs: PodLogs;
  private readonly logBook: LogBook;
  private readonly random: Random;
  private readonly now: () => Date;
  private started = false;

  constructor(
    private readonly store: Store,
    private readonly options: RuntimeOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.random = seededRandom(options.seed);
    this.logBook = new LogBook(store, this.now);
    this.logs = this.logBook;
  }

  async start(): Promise<void> {
    if (this.started) return;
    await verifyLoopbackRange();
    registerNodes(this.store, Math.max(1, this.options.nodes));
    this.started = true;
  }

  async stop(): Promise<void> {
    this.started = false;
    return Promise.resolve();
  }

  /** Where the proxy of a Service port actually listens (the clusterIP, maybe another port). */
  serviceTarget(
    namespace: string,
    service: string,
    port: number,
  ): { host: string; port: number } | undefined {
    void namespace;
    void service;
    void port;
    return undefined;
  }
}

/**
 * Pod and Service addresses are spread over 127.0.0.0/8, which Linux answers on without
 * setup. Elsewhere (macOS has only 127.0.0.1) binding them fails: refuse at start, clearly.
 */
export async function verifyLoopbackRange(): Promise<void> {
  for (const address of ['127.10.0.2', '127.96.0.2']) {
    const ok = await canBind(address);
    if (!ok) {
      throw new Error(
        `the embedded cluster needs the whole 127.0.0.0/8 loopback range (pod and Service addresses like ${address}), but this system cannot bind ${address}; on Linux it works without setup, on macOS add loopback aliases (sudo ifconfig lo0 alias ${address}) or use kind`,
      );
    }
  }
}

function canBind(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind({ address, port: 0 }, () => {
      socket.close();
      resolve(true);
    });
  });
}
