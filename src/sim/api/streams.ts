import type { IncomingMessage, ServerResponse } from 'node:http';
import { RESOURCE_TYPES, type ResourceType } from '../resources.js';
import { shownAs, storedFieldSelector } from './event-view.js';
import { StoreError, type Store, type WatchEvent } from '../store.js';
import type { PodLogs } from '../kubelet/logs.js';
import { ApiError, failure, unsupported, type Status } from './status.js';
import { toTable, wantsTable } from './tables.js';
import { boolParam, includeParam, intParam, type Target } from './request.js';

/**
 * The long-lived responses: watches and followed pod logs. Each registers how to end it in
 * `streams`, so the server can end them all when it closes.
 */
export interface StreamContext {
  store: Store;
  now: () => number;
  logs: PodLogs | undefined;
  streams: Set<() => void>;
}

const PODS = RESOURCE_TYPES.find((t) => t.plural === 'pods') as ResourceType;

/** A watch: JSON lines of events (Table rows when asked), until the timeout or the client goes. */
export function serveWatch(
  ctx: StreamContext,
  req: IncomingMessage,
  res: ServerResponse,
  q: URLSearchParams,
  t: Target,
): void {
  const fieldSelectors = [storedFieldSelector(t.type, q.get('fieldSelector') ?? undefined) ?? ''];
  if (t.name) fieldSelectors.push(`metadata.name=${t.name}`);
  const fieldSelector = fieldSelectors.filter((f) => f !== '').join(',') || undefined;
  const table = wantsTable(req.headers.accept);
  const include = includeParam(q);
  const rv = q.get('resourceVersion') ?? undefined;
  const timeout = intParam(q, 'timeoutSeconds') ?? 1800;
  const send = (e: WatchEvent | { type: 'ERROR'; object: Status }) => {
    const object =
      table && e.type !== 'ERROR'
        ? toTable(
            t.type,
            [e.object],
            { resourceVersion: e.object.metadata.resourceVersion },
            include,
            ctx.now(),
          )
        : e.type === 'ERROR'
          ? e.object
          : shownAs(t.type, e.object);
    res.write(`${JSON.stringify({ type: e.type, object })}\n`);
  };
  let stop: () => void = () => undefined;
  const pending: WatchEvent[] = [];
  let started = false;
  try {
    stop = ctx.store.watch(
      t.type,
      {
        namespace: t.namespace,
        labelSelector: q.get('labelSelector') ?? undefined,
        fieldSelector,
        resourceVersion: rv,
      },
      (e) => (started ? send(e) : pending.push(e)),
    );
  } catch (error) {
    if (error instanceof StoreError && error.code === 410) {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      send({ type: 'ERROR', object: failure(410, 'Expired', error.message) });
      res.end();
      return;
    }
    throw error;
  }
  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Transfer-Encoding': 'chunked',
    'Cache-Control': 'no-cache, private',
  });
  res.flushHeaders();
  started = true;
  for (const e of pending.splice(0)) send(e);
  const timer = setTimeout(() => finish(), Math.max(1, timeout) * 1000);
  const finish = () => {
    clearTimeout(timer);
    stop();
    ctx.streams.delete(finish);
    if (!res.writableEnded) res.end();
  };
  ctx.streams.add(finish);
  req.on('close', finish);
  res.on('close', finish);
}

/** `pods/log`: the log at once, or followed until the container ends or the client goes. */
export function servePodLog(
  ctx: StreamContext,
  req: IncomingMessage,
  res: ServerResponse,
  q: URLSearchParams,
  t: Target,
): void {
  const ns = t.namespace ?? 'default';
  const name = t.name ?? '';
  const pod = ctx.store.mustGet(PODS, ns, name);
  const logs = ctx.logs;
  if (!logs) throw unsupported(404, 'pod logs without a running kubelet');
  let container = q.get('container') ?? undefined;
  const containers = (
    ((pod.spec ?? {}) as { containers?: { name: string }[] }).containers ?? []
  ).map((c) => c.name);
  if (container === undefined) {
    if (containers.length > 1)
      throw new ApiError(
        400,
        'BadRequest',
        `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`,
      );
    container = containers[0];
  } else if (!containers.includes(container)) {
    throw new ApiError(400, 'BadRequest', `container ${container} is not valid for pod ${name}`);
  }
  const tailLines = intParam(q, 'tailLines');
  const sinceSeconds = intParam(q, 'sinceSeconds');
  const limitBytes = intParam(q, 'limitBytes');
  const timestamps = boolParam(q, 'timestamps');
  const previous = boolParam(q, 'previous');
  if (!boolParam(q, 'follow') || previous) {
    const opts: Parameters<PodLogs['read']>[3] = { previous, timestamps };
    if (tailLines !== undefined) opts.tailLines = tailLines;
    if (sinceSeconds !== undefined) opts.sinceSeconds = sinceSeconds;
    if (limitBytes !== undefined) opts.limitBytes = limitBytes;
    let text = logs.read(ns, name, container, opts);
    if (limitBytes !== undefined && Buffer.byteLength(text) > limitBytes)
      text = Buffer.from(text).subarray(0, limitBytes).toString('utf8');
    res.writeHead(200, {
      'Content-Type': 'text/plain',
      'Content-Length': Buffer.byteLength(text),
    });
    res.end(text);
    return;
  }
  // Checks the pod can be read before committing to a 200 stream.
  const initial: Parameters<PodLogs['read']>[3] = { timestamps, tailLines: 0 };
  logs.read(ns, name, container, initial);
  res.writeHead(200, {
    'Content-Type': 'text/plain',
    'Transfer-Encoding': 'chunked',
    'Cache-Control': 'no-cache, private',
  });
  res.flushHeaders();
  let sent = 0;
  const followOpts: { tailLines?: number; timestamps?: boolean } = { timestamps };
  if (tailLines !== undefined) followOpts.tailLines = tailLines;
  let finished = false;
  const handle = logs.follow(ns, name, container, followOpts, (chunk) => {
    if (finished) return;
    let out = chunk;
    if (limitBytes !== undefined) {
      const room = limitBytes - sent;
      if (room <= 0) return;
      if (Buffer.byteLength(out) > room) out = Buffer.from(out).subarray(0, room).toString('utf8');
    }
    sent += Buffer.byteLength(out);
    res.write(out);
    if (limitBytes !== undefined && sent >= limitBytes) finish();
  });
  const finish = () => {
    if (finished) return;
    finished = true;
    handle.stop();
    ctx.streams.delete(finish);
    if (!res.writableEnded) res.end();
  };
  ctx.streams.add(finish);
  handle.done.then(finish, finish);
  req.on('close', finish);
  res.on('close', finish);
}
