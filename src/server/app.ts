import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Identity } from './identity.js';
import { Lifecycle } from './lifecycle.js';
import { parseLoadQuery, simulateWork } from './load.js';
import { isFromInsidePod } from './peer.js';

/** Milliseconds since the epoch; injected so tests can pin timestamps. */
export type Clock = () => number;

export interface AppOptions {
  /** Moved to draining/stopped by main.ts; the app only reads it. */
  readonly lifecycle?: Lifecycle;
  /** Receives each request line, newline included. Defaults to stdout. */
  readonly log?: (line: string) => void;
  /** Receives unexpected errors (with their stack, which never reaches a client). Defaults to stderr. */
  readonly logError?: (line: string) => void;
  /** Kubelet probes every few seconds would drown the lesson's log, so they stay quiet unless asked. */
  readonly logProbes?: boolean;
  readonly appVersion?: string;
  /** Defaults to the clock's reading when the app is created. */
  readonly startedAt?: number;
  /**
   * Ends the process as a crash would, once `POST /crash` has been answered (main.ts exits
   * with code 1, draining nothing). Without it the route is not served.
   */
  readonly crash?: (peer: string) => void;
}

const ENDPOINTS = ['/', '/info', '/health', '/ready', '/load'] as const;

/** Header values must be visible ASCII; a hostname outside that would make every response throw. */
function headerSafe(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?');
}

/**
 * The replica's HTTP surface. Everything that does not change per request (the identity
 * part of the body, the headers, the log line around the timestamp) is built once here,
 * so `GET /` costs one clock read, one string join and one write.
 */
export function createApp(
  identity: Identity,
  clock: Clock = Date.now,
  options: AppOptions = {},
): Express {
  return createReplica(identity, clock, options).app;
}

/** The app, and the request listener that serves it with `GET /` answered up front. */
export interface Replica {
  readonly app: Express;
  /**
   * For `http.createServer`. `GET /` is what every blast hits, once per request, and
   * Express's per-request setup (prototype swaps, a router walk, a final-handler closure)
   * costs more than half the throughput of plain node:http; so this listener answers `/`
   * itself, with the very function the app's own `/` route uses, and hands every other
   * request to the app.
   */
  readonly listener: (req: IncomingMessage, res: ServerResponse) => void;
}

/**
 * What one replica says and logs. Everything that does not change per request (the
 * identity part of the body, the headers, the log line around the timestamp) is built once
 * in the constructor.
 */
class Responder {
  readonly rootFields: Record<string, string>;
  requestsServed = 0;
  private readonly rootPrefix: string;
  private readonly logSuffix: string;
  private readonly jsonHeaders: string[];
  private readonly log: (line: string) => void;
  private readonly logError: (line: string) => void;
  private readonly logProbes: boolean;

  constructor(
    readonly identity: Identity,
    readonly clock: Clock,
    readonly lifecycle: Lifecycle,
    options: AppOptions,
  ) {
    this.log = options.log ?? ((line: string) => void process.stdout.write(line));
    this.logError = options.logError ?? ((line: string) => void process.stderr.write(line));
    this.logProbes = options.logProbes ?? false;
    this.rootFields = {
      message: `Hello from Replica ${identity.replicaId}!`,
      pod_name: identity.podName,
      pod_ip: identity.podIp,
      node_name: identity.nodeName,
      hostname: identity.hostname,
      replica_id: identity.replicaId,
    };
    // `timestamp` is the last key, so the body is a fixed prefix, the time, and `"}`.
    this.rootPrefix = `${JSON.stringify(this.rootFields).slice(0, -1)},"timestamp":"`;
    this.logSuffix = `] Request received by ${identity.podName} (Replica ${identity.replicaId})\n`;
    this.jsonHeaders = [
      'Content-Type',
      'application/json; charset=utf-8',
      'Cache-Control',
      'no-store',
      'X-Pod-Name',
      headerSafe(identity.podName),
      'X-Replica-Id',
      headerSafe(identity.replicaId),
      'X-Node-Name',
      headerSafe(identity.nodeName),
      'X-Pod-IP',
      headerSafe(identity.podIp),
    ];
  }

  now(): string {
    return new Date(this.clock()).toISOString();
  }

  /** Writes the response in one go; while draining, it also tells the client to hang up. */
  sendJson(res: ServerResponse, status: number, body: string): void {
    const headers = [...this.jsonHeaders, 'Content-Length', String(Buffer.byteLength(body))];
    if (this.lifecycle.draining) headers.push('Connection', 'close');
    res.writeHead(status, headers);
    res.end(body);
  }

  logRequest(timestamp: string): void {
    this.requestsServed += 1;
    this.log(`[${timestamp}${this.logSuffix}`);
  }

  logProbe(): void {
    if (this.logProbes) this.log(`[${this.now()}${this.logSuffix}`);
  }

  /** `GET /` (and HEAD, which is answered but neither logged nor counted). */
  answerRoot(req: IncomingMessage, res: ServerResponse): void {
    try {
      const timestamp = this.now();
      if (req.method === 'GET') this.logRequest(timestamp);
      this.sendJson(res, 200, `${this.rootPrefix}${timestamp}"}`);
    } catch (error) {
      this.respondToError(error, req, res);
    }
  }

  /** A client's mistake keeps its 4xx; anything else is logged here and hidden from the client. */
  respondToError(error: unknown, req: IncomingMessage, res: ServerResponse): void {
    const status = clientErrorStatus(error);
    if (status === undefined) {
      const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
      this.logError(`Error handling ${req.method} ${req.url}: ${detail}\n`);
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (status !== undefined) {
      this.sendJson(res, status, JSON.stringify({ error: (error as Error).message }));
    } else {
      this.sendJson(res, 500, '{"error":"Internal server error"}');
    }
  }
}

function infoBody(r: Responder, startedAt: number, appVersion: string): string {
  const now = r.clock();
  const timestamp = new Date(now).toISOString();
  r.logRequest(timestamp);
  const memory = process.memoryUsage();
  return JSON.stringify({
    ...r.rootFields,
    timestamp,
    namespace: r.identity.namespace,
    started_at: new Date(startedAt).toISOString(),
    uptime_seconds: Math.max(0, Math.round(now - startedAt) / 1000),
    requests_served: r.requestsServed,
    app_version: appVersion,
    node_version: process.version,
    pid: process.pid,
    memory: {
      rss_bytes: memory.rss,
      heap_total_bytes: memory.heapTotal,
      heap_used_bytes: memory.heapUsed,
      external_bytes: memory.external,
    },
  });
}

/** `GET /load`: simulated work, cut short when the client hangs up or shutdown runs out of time. */
async function answerLoad(r: Responder, req: Request, res: Response): Promise<void> {
  const parsed = parseLoadQuery(req.query);
  if (!parsed.ok) {
    r.sendJson(res, 400, JSON.stringify({ error: parsed.message, parameter: parsed.parameter }));
    return;
  }
  r.logRequest(r.now());
  const clientGone = new AbortController();
  const onClose = () => clientGone.abort();
  res.once('close', onClose);
  const spentMs = await simulateWork(
    parsed.value,
    AbortSignal.any([clientGone.signal, r.lifecycle.stopSignal]),
  );
  res.off('close', onClose);
  if (res.destroyed) return;
  if (r.lifecycle.stopSignal.aborted) {
    r.sendJson(res, 503, JSON.stringify({ error: 'Server is shutting down; work was cut short' }));
    return;
  }
  r.sendJson(
    res,
    200,
    JSON.stringify({
      pod_name: r.identity.podName,
      replica_id: r.identity.replicaId,
      mode: parsed.value.cpu ? 'cpu' : 'wait',
      requested_ms: parsed.value.ms,
      elapsed_ms: Math.round(spentMs),
      timestamp: r.now(),
    }),
  );
}

/**
 * `POST /crash`: the process dies as in a crash or an OOM kill, while its pod is still an
 * endpoint, so a learner sees what a readiness probe and a graceful shutdown cannot prevent.
 * Only from inside the pod (through `kubectl port-forward`): never from other pods or the
 * Service, which would let anyone in the cluster take replicas down.
 */
function answerCrash(
  r: Responder,
  req: Request,
  res: Response,
  crash: (peer: string) => void,
): void {
  const peer = req.socket.remoteAddress ?? '';
  if (!isFromInsidePod(peer, r.identity.podIp)) {
    r.sendJson(
      res,
      403,
      JSON.stringify({
        error: `POST /crash is accepted only from inside the pod (through kubectl port-forward), not from ${peer || 'an unknown address'}`,
      }),
    );
    return;
  }
  // Exits once the answer has left, so the caller learns the crash was its doing.
  res.once('finish', () => crash(peer));
  r.sendJson(
    res,
    202,
    JSON.stringify({
      status: 'crashing',
      pod_name: r.identity.podName,
      replica_id: r.identity.replicaId,
      exit_code: 1,
      timestamp: r.now(),
    }),
  );
}

export function createReplica(
  identity: Identity,
  clock: Clock = Date.now,
  options: AppOptions = {},
): Replica {
  const lifecycle = options.lifecycle ?? new Lifecycle();
  const appVersion = options.appVersion ?? 'unknown';
  const startedAt = options.startedAt ?? clock();
  const r = new Responder(identity, clock, lifecycle, options);

  const app = express();
  app.disable('x-powered-by');
  // A per-response hash of a body that changes every millisecond buys nothing.
  app.set('etag', false);
  app.get('/', (req, res) => r.answerRoot(req, res));
  app.get('/info', (_req, res) => r.sendJson(res, 200, infoBody(r, startedAt, appVersion)));
  app.get('/health', (_req, res) => {
    r.logProbe();
    r.sendJson(res, 200, '{"status":"ok"}');
  });
  app.get('/ready', (_req, res) => {
    r.logProbe();
    if (lifecycle.draining) r.sendJson(res, 503, '{"status":"draining"}');
    else r.sendJson(res, 200, '{"status":"ready"}');
  });
  app.get('/load', (req, res) => answerLoad(r, req, res));
  const crash = options.crash;
  if (crash) app.post('/crash', (req, res) => answerCrash(r, req, res, crash));
  app.use((req: Request, res: Response) => {
    r.sendJson(
      res,
      404,
      JSON.stringify({ error: `Not found: ${req.method} ${req.path}`, endpoints: ENDPOINTS }),
    );
  });
  // Express recognises an error handler by its four parameters, so `_next` must stay.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    r.respondToError(error, req, res);
  });

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    if ((req.method === 'GET' || req.method === 'HEAD') && isRootPath(req.url)) {
      r.answerRoot(req, res);
    } else {
      app(req, res);
    }
  };
  return { app, listener };
}

/** `/` with or without a query string (the blast numbers its requests `/?n=1`, `/?n=2`...). */
function isRootPath(url: string | undefined): boolean {
  return url === '/' || (url !== undefined && url.startsWith('/?'));
}

/** Express marks errors the client caused (a malformed path, say) with a 4xx status. */
function clientErrorStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' && status >= 400 && status < 500 && error instanceof Error
    ? status
    : undefined;
}
