import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Identity } from './identity.js';
import { Lifecycle } from './lifecycle.js';
import { parseLoadQuery, simulateWork } from './load.js';

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

export function createReplica(
  identity: Identity,
  clock: Clock = Date.now,
  options: AppOptions = {},
): Replica {
  const lifecycle = options.lifecycle ?? new Lifecycle();
  const log = options.log ?? ((line: string) => void process.stdout.write(line));
  const logError = options.logError ?? ((line: string) => void process.stderr.write(line));
  const logProbes = options.logProbes ?? false;
  const appVersion = options.appVersion ?? 'unknown';
  const startedAt = options.startedAt ?? clock();
  let requestsServed = 0;

  const rootFields = {
    message: `Hello from Replica ${identity.replicaId}!`,
    pod_name: identity.podName,
    pod_ip: identity.podIp,
    node_name: identity.nodeName,
    hostname: identity.hostname,
    replica_id: identity.replicaId,
  };
  // `timestamp` is the last key, so the body is a fixed prefix, the time, and `"}`.
  const rootPrefix = `${JSON.stringify(rootFields).slice(0, -1)},"timestamp":"`;
  const logPrefix = '[';
  const logSuffix = `] Request received by ${identity.podName} (Replica ${identity.replicaId})\n`;
  const identityHeaders = [
    'X-Pod-Name',
    headerSafe(identity.podName),
    'X-Replica-Id',
    headerSafe(identity.replicaId),
    'X-Node-Name',
    headerSafe(identity.nodeName),
    'X-Pod-IP',
    headerSafe(identity.podIp),
  ];
  const jsonHeaders = [
    'Content-Type',
    'application/json; charset=utf-8',
    'Cache-Control',
    'no-store',
    ...identityHeaders,
  ];

  /** Writes the response in one go; while draining, it also tells the client to hang up. */
  function sendJson(res: ServerResponse, status: number, body: string): void {
    const headers = [...jsonHeaders, 'Content-Length', String(Buffer.byteLength(body))];
    if (lifecycle.draining) headers.push('Connection', 'close');
    res.writeHead(status, headers);
    res.end(body);
  }

  function logRequest(timestamp: string): void {
    requestsServed += 1;
    log(logPrefix + timestamp + logSuffix);
  }

  function logProbe(): void {
    if (logProbes) log(logPrefix + new Date(clock()).toISOString() + logSuffix);
  }

  /** `GET /` (and HEAD, which is answered but neither logged nor counted). */
  function answerRoot(req: IncomingMessage, res: ServerResponse): void {
    try {
      const timestamp = new Date(clock()).toISOString();
      if (req.method === 'GET') logRequest(timestamp);
      sendJson(res, 200, `${rootPrefix}${timestamp}"}`);
    } catch (error) {
      respondToError(error, req, res);
    }
  }

  const app = express();
  app.disable('x-powered-by');
  // A per-response hash of a body that changes every millisecond buys nothing.
  app.set('etag', false);

  app.get('/', (req, res) => answerRoot(req, res));

  app.get('/info', (_req, res) => {
    const now = clock();
    const timestamp = new Date(now).toISOString();
    logRequest(timestamp);
    const memory = process.memoryUsage();
    const body = {
      ...rootFields,
      timestamp,
      namespace: identity.namespace,
      started_at: new Date(startedAt).toISOString(),
      uptime_seconds: Math.max(0, Math.round(now - startedAt) / 1000),
      requests_served: requestsServed,
      app_version: appVersion,
      node_version: process.version,
      pid: process.pid,
      memory: {
        rss_bytes: memory.rss,
        heap_total_bytes: memory.heapTotal,
        heap_used_bytes: memory.heapUsed,
        external_bytes: memory.external,
      },
    };
    sendJson(res, 200, JSON.stringify(body));
  });

  app.get('/health', (_req, res) => {
    logProbe();
    sendJson(res, 200, '{"status":"ok"}');
  });

  app.get('/ready', (_req, res) => {
    logProbe();
    if (lifecycle.draining) sendJson(res, 503, '{"status":"draining"}');
    else sendJson(res, 200, '{"status":"ready"}');
  });

  app.get('/load', async (req, res) => {
    const parsed = parseLoadQuery(req.query);
    if (!parsed.ok) {
      sendJson(res, 400, JSON.stringify({ error: parsed.message, parameter: parsed.parameter }));
      return;
    }
    const timestamp = new Date(clock()).toISOString();
    logRequest(timestamp);
    // Stop working for a client that hung up, and for everyone once shutdown runs out of time.
    const clientGone = new AbortController();
    const onClose = () => clientGone.abort();
    res.once('close', onClose);
    const spentMs = await simulateWork(
      parsed.value,
      AbortSignal.any([clientGone.signal, lifecycle.stopSignal]),
    );
    res.off('close', onClose);
    if (res.destroyed) return;
    if (lifecycle.stopSignal.aborted) {
      sendJson(res, 503, JSON.stringify({ error: 'Server is shutting down; work was cut short' }));
      return;
    }
    sendJson(
      res,
      200,
      JSON.stringify({
        pod_name: identity.podName,
        replica_id: identity.replicaId,
        mode: parsed.value.cpu ? 'cpu' : 'wait',
        requested_ms: parsed.value.ms,
        elapsed_ms: Math.round(spentMs),
        timestamp: new Date(clock()).toISOString(),
      }),
    );
  });

  app.use((req: Request, res: Response) => {
    sendJson(
      res,
      404,
      JSON.stringify({ error: `Not found: ${req.method} ${req.path}`, endpoints: ENDPOINTS }),
    );
  });

  /** A client's mistake keeps its 4xx; anything else is logged here and hidden from the client. */
  function respondToError(error: unknown, req: IncomingMessage, res: ServerResponse): void {
    const status = clientErrorStatus(error);
    if (status === undefined) {
      const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
      logError(`Error handling ${req.method} ${req.url}: ${detail}\n`);
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (status !== undefined) {
      sendJson(res, status, JSON.stringify({ error: (error as Error).message }));
    } else {
      sendJson(res, 500, '{"error":"Internal server error"}');
    }
  }

  // Express recognises an error handler by its four parameters, so `_next` must stay.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    respondToError(error, req, res);
  });

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    if ((req.method === 'GET' || req.method === 'HEAD') && isRootPath(req.url)) {
      answerRoot(req, res);
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
