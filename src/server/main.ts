import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createReplica } from './app.js';
import { resolveIdentity } from './identity.js';
import { Lifecycle } from './lifecycle.js';

const DEFAULT_PORT = 8080;
/** Node's own default; written out so a Node upgrade cannot change it under us. */
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** Must exceed the keep-alive timeout, or a reused connection can be cut mid-header. */
const HEADERS_TIMEOUT_MS = 10_000;
/** Time to receive a whole request; our requests have no body, so this is generous. */
const REQUEST_TIMEOUT_MS = 30_000;
/** Stays inside Kubernetes' default 30 s grace period, preStop pause included. */
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

/** Lifecycle messages go to stderr so stdout carries nothing but the per-request lines. */
function note(message: string): void {
  process.stderr.write(`[${new Date().toISOString()}] ${message}\n`);
}

/**
 * Collects the request lines of one event-loop turn and writes them with one call: under
 * load, a write per request costs the server more than answering does. A line waits at
 * most until the current turn ends, and the order is kept.
 */
function batchedWriter(stream: NodeJS.WritableStream): (line: string) => void {
  let pending = '';
  const flush = () => {
    const text = pending;
    pending = '';
    stream.write(text);
  };
  return (line) => {
    if (pending === '') setImmediate(flush);
    pending += line;
  };
}

function appVersion(): string {
  try {
    const pkg = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

function integerFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, max: number) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) > max) {
    throw new Error(`${name} must be a whole number from 0 to ${max}, got '${raw}'`);
  }
  return Number(raw);
}

function start(env: NodeJS.ProcessEnv): void {
  let port: number;
  let shutdownTimeoutMs: number;
  try {
    port = integerFromEnv(env, 'PORT', DEFAULT_PORT, 65_535);
    shutdownTimeoutMs = integerFromEnv(
      env,
      'SHUTDOWN_TIMEOUT_MS',
      DEFAULT_SHUTDOWN_TIMEOUT_MS,
      600_000,
    );
  } catch (error) {
    note(`Cannot start: ${(error as Error).message}`);
    process.exitCode = 1;
    return;
  }
  const host = env.HOST === undefined || env.HOST === '' ? undefined : env.HOST;

  const identity = resolveIdentity({ env });
  const lifecycle = new Lifecycle();
  const { listener } = createReplica(identity, Date.now, {
    lifecycle,
    log: batchedWriter(process.stdout),
    logProbes: env.LOG_PROBES === '1' || env.LOG_PROBES === 'true',
    appVersion: appVersion(),
    crash: (peer) => {
      note(
        `POST /crash from ${peer}: exiting with code 1 at once, draining nothing, as a crashed process would`,
      );
      // The next turn, so the 202 is written out first.
      setImmediate(() => process.exit(1));
    },
  });

  const server = http.createServer(listener);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;

  server.on('error', (error: NodeJS.ErrnoException) => {
    note(`Cannot listen on ${host ?? '*'}:${port}: ${error.code ?? error.message}`);
    process.exitCode = 1;
  });

  server.listen({ port, host }, () => {
    const address = server.address() as AddressInfo;
    note(
      `Listening on port ${address.port} as ${identity.podName} (Replica ${identity.replicaId})`,
    );
  });

  // Ends what is left: connections are cut and long work is aborted, after which nothing
  // holds the event loop and the process ends by itself.
  const forceStop = (why: string) => {
    note(`${why}: closing ${server.listening ? 'listener and ' : ''}all connections`);
    lifecycle.stop();
    server.closeAllConnections();
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (lifecycle.draining) {
      forceStop(`${signal} received again`);
      return;
    }
    lifecycle.drain();
    note(`${signal} received: not ready, finishing requests in flight`);
    const deadline = setTimeout(
      () => forceStop(`Requests still running after ${shutdownTimeoutMs} ms`),
      shutdownTimeoutMs,
    );
    // The deadline alone must not keep the process alive once the drain is done.
    deadline.unref();
    server.close(() => {
      clearTimeout(deadline);
      note('Stopped');
    });
    // Keep-alive connections with no request in progress would otherwise wait out their timeout.
    server.closeIdleConnections();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

start(process.env);
