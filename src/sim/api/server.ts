import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { timingSafeEqual } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import { RESOURCE_TYPES, apiVersionOf, resourceByPlural, type ResourceType } from '../resources.js';
import { SelectorError } from '../selectors.js';
import { StoreError, type KubeObject, type Store, type WatchEvent } from '../store.js';
import { qualified, type AdmitPod } from '../registry/common.js';
import { applyObject, createObject, patchObject, updateObject } from '../registry/objects.js';
import { patchScale, readScale, updateScale } from '../registry/scale.js';
import { deleteCollection, deleteObject } from '../registry/delete.js';
import { podSecurityWarningFor } from '../admission.js';
import {
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  openApiDocument,
  openApiIndex,
  versionInfo,
} from './discovery.js';
import { isObject, type Json } from './patch.js';
import {
  ApiError,
  failure,
  sendJson,
  sendStatus,
  statusFromError,
  unsupported,
  type Status,
} from './status.js';
import { toTable, wantsTable, type IncludeObject } from './tables.js';
import { createPortForward, type PodAddressLookup } from './portforward.js';
import { decodeProtobuf, isProtobuf } from './protobuf.js';
import type { PodLogs } from '../kubelet/logs.js';

/** The runtime's pod log store, which the API serves as `pods/log`. */
export type LogSource = PodLogs;

export interface ApiServerOptions {
  store: Store;
  token: string;
  logs?: LogSource;
  /** Pod admission (Pod Security) for pods created through the API. */
  admitPod?: AdmitPod;
  now?: () => number;
  log?: (line: string) => void;
  /** PEM key and certificate: kubectl sends its bearer token only over TLS. Plain HTTP without. */
  tls?: { key: string; cert: string };
}

const MAX_BODY = 3 * 1024 * 1024;

interface Target {
  type: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  sub: string | undefined;
  watchPath: boolean;
}

function typeByPlural(plural: string): ResourceType {
  const t = RESOURCE_TYPES.find((r) => r.plural === plural);
  if (!t) throw new Error(`no resource type ${plural}`);
  return t;
}

const NAMESPACES = typeByPlural('namespaces');
const PODS = typeByPlural('pods');

/** `/api/v1/...` or `/apis/<g>/<v>/...` into a resource target; undefined for non-resource paths. */
export function parseResourcePath(pathname: string): Target | undefined {
  const parts = pathname
    .split('/')
    .filter((p) => p !== '')
    .map(decodeURIComponent);
  let group: string;
  let rest: string[];
  if (parts[0] === 'api' && parts[1] === 'v1' && parts.length > 2) {
    group = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length > 3) {
    group = parts[1] ?? '';
    const version = parts[2] ?? '';
    if (!RESOURCE_TYPES.some((t) => t.group === group && t.version === version)) return undefined;
    rest = parts.slice(3);
  } else return undefined;
  let watchPath = false;
  if (rest[0] === 'watch') {
    watchPath = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  if (
    rest[0] === 'namespaces' &&
    rest.length >= 3 &&
    !(group === '' && rest.length === 3 && ['status', 'finalize'].includes(rest[2] ?? ''))
  ) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, sub, ...extra] = rest;
  if (!plural || extra.length > 0) return undefined;
  const type = resourceByPlural(group, plural);
  if (!type) return undefined;
  if (namespace !== undefined && !type.namespaced) return undefined;
  return { type, namespace, name, sub, watchPath };
}

function boolParam(q: URLSearchParams, key: string): boolean {
  const v = q.get(key);
  return v === 'true' || v === '1';
}

function intParam(q: URLSearchParams, key: string): number | undefined {
  const v = q.get(key);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n))
    throw new ApiError(400, 'BadRequest', `invalid value for ${key}: "${v}"`);
  return n;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new ApiError(413, 'BadRequest', 'the request body is too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseBody(raw: Buffer, contentType: string, allowYaml: boolean): unknown {
  if (/protobuf|cbor/.test(contentType))
    throw unsupported(
      415,
      `request bodies in "${contentType}" (only JSON and YAML; kubectl create and kubectl run send protobuf: write a manifest and use kubectl apply -f)`,
    );
  const text = raw.toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    if (allowYaml || /yaml/.test(contentType)) {
      try {
        return parseYaml(text) as unknown;
      } catch (e) {
        throw new ApiError(400, 'BadRequest', `error decoding YAML: ${(e as Error).message}`);
      }
    }
    throw new ApiError(
      400,
      'BadRequest',
      'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml',
    );
  }
}

function mustObject(v: unknown, what = 'request body'): Record<string, unknown> {
  if (!isObject(v)) throw new ApiError(400, 'BadRequest', `the ${what} must be a JSON object`);
  return v;
}

export class ApiServer {
  readonly server: http.Server | https.Server;
  private readonly store: Store;
  private readonly token: Buffer;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private readonly openStreams = new Set<() => void>();

  constructor(private readonly options: ApiServerOptions) {
    this.store = options.store;
    this.token = Buffer.from(options.token);
    this.now = options.now ?? Date.now;
    this.log = options.log ?? (() => undefined);
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((error: unknown) => this.fail(res, error));
    };
    this.server = options.tls
      ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, handler)
      : http.createServer(handler);
    this.server.keepAliveTimeout = 65_000;
    const lookup: PodAddressLookup = (ns, pod) => this.store.get(PODS, ns, pod);
    const portForward = createPortForward(lookup, this.log);
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // Node hands over an upgraded socket without an error listener: a client resetting it
      // would otherwise throw in the daemon and take every pod down with it.
      socket.on('error', () => socket.destroy());
      const reject = (status: Status) => {
        const body = JSON.stringify(status);
        socket.end(
          `HTTP/1.1 ${status.code} ${http.STATUS_CODES[status.code] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      };
      if (!this.authorized(req)) {
        reject(failure(401, 'Unauthorized', 'Unauthorized'));
        return;
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      const target = parseResourcePath(url.pathname);
      if (!target || target.type !== PODS || !target.name || target.sub !== 'portforward') {
        const what = target?.sub ? `pods/${target.sub}` : url.pathname;
        reject(
          statusFromError(
            unsupported(
              400,
              `${what} (only pods/portforward is served over an upgraded connection)`,
            ),
          ),
        );
        return;
      }
      portForward.handleUpgrade(
        req,
        socket,
        head,
        target.namespace ?? 'default',
        target.name,
        url.searchParams,
        reject,
      );
    });
  }

  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const addr = this.server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }

  async close(): Promise<void> {
    for (const stop of this.openStreams) stop();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private authorized(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header);
    if (!m) return false;
    const given = Buffer.from(m[1]?.trim() ?? '');
    return given.length === this.token.length && timingSafeEqual(given, this.token);
  }

  private fail(
    res: ServerResponse,
    error: unknown,
    about?: { type?: ResourceType; name?: string },
  ): void {
    const status =
      error instanceof SelectorError
        ? failure(400, 'BadRequest', error.message)
        : statusFromError(error, about);
    if (status.code === 500)
      this.log(
        `internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
    if (res.headersSent) {
      res.end();
      return;
    }
    sendStatus(res, status);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (!this.authorized(req)) {
      sendStatus(res, failure(401, 'Unauthorized', 'Unauthorized'));
      return;
    }
    const method = req.method ?? 'GET';
    if (method === 'GET') {
      const doc = this.nonResource(path, req);
      if (doc !== undefined) {
        if (typeof doc === 'string') {
          res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
          res.end(doc);
        } else sendJson(res, 200, doc);
        return;
      }
    }
    const target = parseResourcePath(path);
    if (!target) {
      const parts = path.split('/').filter(Boolean);
      const sub =
        parts.length >= 6 && parts.includes('namespaces') ? parts[parts.length - 1] : undefined;
      if (
        sub &&
        [
          'exec',
          'attach',
          'proxy',
          'eviction',
          'binding',
          'ephemeralcontainers',
          'resize',
        ].includes(sub)
      )
        throw unsupported(404, `the ${sub} subresource`);
      throw new ApiError(
        404,
        'NotFound',
        `the server could not find the requested resource (the embedded cluster does not serve ${path})`,
      );
    }
    try {
      await this.resource(req, res, url.searchParams, target, method);
    } catch (error) {
      this.fail(res, error, { type: target.type, name: target.name });
    }
  }

  private nonResource(path: string, req: IncomingMessage): unknown {
    const host = `${req.socket.localAddress ?? '127.0.0.1'}:${req.socket.localPort ?? 0}`;
    switch (path) {
      case '/healthz':
      case '/readyz':
      case '/livez':
        return 'ok';
      case '/version':
        return versionInfo();
      case '/api':
        return apiVersions(host);
      case '/apis':
        return apiGroupList();
      case '/api/v1':
        return apiResourceList('', 'v1');
      case '/openapi/v3':
        return openApiIndex();
      default:
        break;
    }
    let m = /^\/apis\/([^/]+)$/.exec(path);
    if (m) return apiGroup(m[1] ?? '');
    m = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path);
    if (m) return apiResourceList(m[1] ?? '', m[2] ?? '');
    m = /^\/openapi\/v3\/(api|apis\/[^/]+)\/([^/]+)$/.exec(path);
    if (m) {
      const group = m[1] === 'api' ? '' : (m[1] ?? '').slice('apis/'.length);
      return openApiDocument(group, m[2] ?? '');
    }
    return undefined;
  }

  private async resource(
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
    t: Target,
    method: string,
  ): Promise<void> {
    const { type, name, sub } = t;
    const dryRun = q.getAll('dryRun');
    if (dryRun.some((d) => d !== 'All'))
      throw new ApiError(
        400,
        'BadRequest',
        `unsupported dry run option "${dryRun.join(',')}": only "All" is supported`,
      );
    const isDryRun = dryRun.length > 0;
    if (t.namespace !== undefined && type === NAMESPACES) throw unsupported(404, 'that path');
    if (sub !== undefined && !type.subresources.includes(sub))
      throw unsupported(404, `the ${type.plural}/${sub} subresource`);
    if (t.watchPath || (method === 'GET' && !name && boolParam(q, 'watch'))) {
      if (method !== 'GET') throw unsupported(405, `${method} on a watch path`);
      this.watch(req, res, q, t);
      return;
    }
    if (name === undefined) {
      if (method === 'GET') return this.list(req, res, q, t);
      if (method === 'POST') return this.create(req, res, q, t, isDryRun);
      if (method === 'DELETE') return this.deleteCollection(req, res, q, t, isDryRun);
      throw unsupported(405, `${method} on a collection`);
    }
    if (sub === 'log') {
      if (method !== 'GET') throw unsupported(405, `${method} on pods/log`);
      return this.podLog(req, res, q, t);
    }
    if (sub === 'portforward') {
      throw new ApiError(
        400,
        'BadRequest',
        'the embedded cluster serves pods/portforward only over a websocket upgrade: v4.channel.k8s.io (client-node PortForward) or SPDY/3.1+portforward.k8s.io (kubectl 1.31 and newer)',
      );
    }
    if (sub === 'scale') return this.scale(req, res, t, method, isDryRun);
    switch (method) {
      case 'GET':
        return this.get(req, res, q, t);
      case 'PUT':
        return this.update(req, res, q, t, isDryRun);
      case 'PATCH':
        return this.patch(req, res, q, t, isDryRun);
      case 'DELETE':
        if (sub) throw unsupported(405, `DELETE on ${type.plural}/${sub}`);
        return this.delete(req, res, q, t, isDryRun);
      default:
        throw unsupported(405, `${method} on ${qualified(type)}${sub ? `/${sub}` : ''}`);
    }
  }

  private respond(
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
    type: ResourceType,
    code: number,
    obj: KubeObject,
  ): void {
    if (req.method !== 'GET' && req.method !== 'DELETE') {
      const warning = podSecurityWarningFor(this.store, type, obj);
      if (warning) res.setHeader('Warning', `299 - "${warning.replace(/"/g, '\\"')}"`);
    }
    if (wantsTable(req.headers.accept)) {
      sendJson(
        res,
        code,
        toTable(
          type,
          [obj],
          { resourceVersion: obj.metadata.resourceVersion },
          includeParam(q),
          this.now(),
        ),
      );
      return;
    }
    sendJson(res, code, obj);
  }

  private get(req: IncomingMessage, res: ServerResponse, q: URLSearchParams, t: Target): void {
    const obj = this.store.mustGet(t.type, t.namespace, t.name ?? '');
    this.respond(req, res, q, t.type, 200, obj);
  }

  private list(req: IncomingMessage, res: ServerResponse, q: URLSearchParams, t: Target): void {
    const { items, resourceVersion } = this.store.list(t.type, {
      namespace: t.namespace,
      labelSelector: q.get('labelSelector') ?? undefined,
      fieldSelector: q.get('fieldSelector') ?? undefined,
    });
    const limit = intParam(q, 'limit');
    let offset = 0;
    const token = q.get('continue');
    if (token) {
      const parsed = Number(Buffer.from(token, 'base64url').toString('utf8'));
      if (!Number.isInteger(parsed) || parsed < 0)
        throw new ApiError(400, 'BadRequest', 'continue key is not valid');
      offset = parsed;
    }
    let page = items.slice(offset);
    const metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number } = {
      resourceVersion,
    };
    if (limit !== undefined && limit > 0 && page.length > limit) {
      metadata.continue = Buffer.from(String(offset + limit)).toString('base64url');
      metadata.remainingItemCount = page.length - limit;
      page = page.slice(0, limit);
    }
    if (wantsTable(req.headers.accept)) {
      sendJson(res, 200, toTable(t.type, page, metadata, includeParam(q), this.now()));
      return;
    }
    sendJson(res, 200, {
      kind: `${t.type.kind}List`,
      apiVersion: apiVersionOf(t.type),
      metadata,
      items: page,
    });
  }

  private watch(req: IncomingMessage, res: ServerResponse, q: URLSearchParams, t: Target): void {
    const fieldSelectors = [q.get('fieldSelector') ?? ''];
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
              this.now(),
            )
          : e.object;
      res.write(`${JSON.stringify({ type: e.type, object })}\n`);
    };
    let stop: () => void = () => undefined;
    const pending: WatchEvent[] = [];
    let started = false;
    try {
      stop = this.store.watch(
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
      this.openStreams.delete(finish);
      if (!res.writableEnded) res.end();
    };
    this.openStreams.add(finish);
    req.on('close', finish);
    res.on('close', finish);
  }

  private fieldManager(q: URLSearchParams, req: IncomingMessage, fallback: string): string {
    const fm = q.get('fieldManager');
    if (fm) return fm;
    const agent = req.headers['user-agent'] ?? '';
    const first = agent.split('/')[0] ?? '';
    return first !== '' ? first : fallback;
  }

  private async create(
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
    t: Target,
    dryRun: boolean,
  ): Promise<void> {
    const raw = await readBody(req);
    const contentType = req.headers['content-type'] ?? '';
    const body = isProtobuf(contentType)
      ? decodeProtobuf(raw)
      : mustObject(parseBody(raw, contentType, true));
    const created = createObject(this.store, t.type, t.namespace, body, {
      manager: this.fieldManager(q, req, 'unknown'),
      dryRun,
      admitPod: this.options.admitPod,
    });
    this.respond(req, res, q, t.type, 201, created);
  }

  private async update(
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
    t: Target,
    dryRun: boolean,
  ): Promise<void> {
    const body = mustObject(
      parseBody(await readBody(req), req.headers['content-type'] ?? '', true),
    );
    const written = updateObject(this.store, t.type, t.namespace, t.name ?? '', body, {
      dryRun,
      subresource: t.sub,
    });
    this.respond(req, res, q, t.type, 200, written);
  }

  private async patch(
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
    t: Target,
    dryRun: boolean,
  ): Promise<void> {
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
    const raw = await readBody(req);
    const name = t.name ?? '';
    if (contentType === 'application/apply-patch+yaml') {
      const manager = q.get('fieldManager');
      if (!manager) throw applyNeedsManager();
      const applied = mustObject(parseBody(raw, contentType, true)) as Record<string, Json>;
      const { object, created } = applyObject(this.store, t.type, t.namespace, name, applied, {
        manager,
        dryRun,
        subresource: t.sub,
        admitPod: this.options.admitPod,
      });
      this.respond(req, res, q, t.type, created ? 201 : 200, object);
      return;
    }
    // A missing object is NotFound whatever its body.
    this.store.mustGet(t.type, t.namespace, name);
    const patch = parseBody(raw, contentType, false);
    const written = patchObject(this.store, t.type, t.namespace, name, contentType, patch, {
      dryRun,
      subresource: t.sub,
    });
    this.respond(req, res, q, t.type, 200, written);
  }

  private async scale(
    req: IncomingMessage,
    res: ServerResponse,
    t: Target,
    method: string,
    dryRun: boolean,
  ): Promise<void> {
    const name = t.name ?? '';
    const scale = readScale(this.store, t.type, t.namespace, name);
    if (method === 'GET') {
      sendJson(res, 200, scale);
      return;
    }
    const raw = await readBody(req);
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
    const opts = { dryRun };
    let written: KubeObject;
    if (method === 'PUT') {
      const body = parseBody(raw, contentType, true);
      written = updateScale(this.store, t.type, t.namespace, name, body, opts);
    } else if (method === 'PATCH') {
      const patch = parseBody(raw, contentType, contentType.includes('yaml'));
      written = patchScale(this.store, t.type, t.namespace, name, contentType, patch, opts);
    } else throw unsupported(405, `${method} on ${t.type.plural}/scale`);
    sendJson(res, 200, written);
  }

  private async deleteOptions(
    req: IncomingMessage,
    q: URLSearchParams,
  ): Promise<{
    propagationPolicy?: string;
    gracePeriodSeconds?: number;
    preconditions?: { uid?: string; resourceVersion?: string };
    dryRun: boolean;
  }> {
    const body = parseBody(await readBody(req), req.headers['content-type'] ?? '', false);
    const opts = (isObject(body ?? null) ? body : {}) as Record<string, unknown>;
    let propagationPolicy = (q.get('propagationPolicy') ?? opts.propagationPolicy) as
      string | undefined;
    const orphan = q.get('orphanDependents') ?? opts.orphanDependents;
    if (propagationPolicy === undefined && orphan !== undefined)
      propagationPolicy = orphan === true || orphan === 'true' ? 'Orphan' : 'Background';
    if (
      propagationPolicy !== undefined &&
      !['Orphan', 'Background', 'Foreground'].includes(propagationPolicy)
    )
      throw new ApiError(
        422,
        'Invalid',
        `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${propagationPolicy}": supported values: "Foreground", "Background", "Orphan", "nil"`,
      );
    const graceRaw = q.get('gracePeriodSeconds') ?? opts.gracePeriodSeconds;
    const gracePeriodSeconds =
      graceRaw === undefined || graceRaw === null ? undefined : Number(graceRaw);
    if (gracePeriodSeconds !== undefined && !Number.isInteger(gracePeriodSeconds))
      throw new ApiError(400, 'BadRequest', `invalid gracePeriodSeconds "${String(graceRaw)}"`);
    const dryRunBody = Array.isArray(opts.dryRun) ? (opts.dryRun as string[]) : [];
    if (dryRunBody.some((d) => d !== 'All'))
      throw new ApiError(400, 'BadRequest', `unsupported dry run option "${dryRunBody.join(',')}"`);
    return {
      propagationPolicy,
      gracePeriodSeconds,
      preconditions: isObject(opts.preconditions ?? null)
        ? (opts.preconditions as { uid?: string; resourceVersion?: string })
        : undefined,
      dryRun: dryRunBody.length > 0,
    };
  }

  private async delete(
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
    t: Target,
    dryRunQuery: boolean,
  ): Promise<void> {
    const opts = await this.deleteOptions(req, q);
    const body = deleteObject(this.store, t.type, t.namespace, t.name ?? '', {
      ...opts,
      dryRun: dryRunQuery || opts.dryRun,
    });
    if (body.kind !== 'Status') this.respond(req, res, q, t.type, 200, body as KubeObject);
    else sendJson(res, 200, body);
  }

  private async deleteCollection(
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
    t: Target,
    dryRunQuery: boolean,
  ): Promise<void> {
    const opts = await this.deleteOptions(req, q);
    const { items } = this.store.list(t.type, {
      namespace: t.namespace,
      labelSelector: q.get('labelSelector') ?? undefined,
      fieldSelector: q.get('fieldSelector') ?? undefined,
    });
    const deleted = deleteCollection(this.store, t.type, items, {
      ...opts,
      dryRun: dryRunQuery || opts.dryRun,
    });
    sendJson(res, 200, {
      kind: `${t.type.kind}List`,
      apiVersion: apiVersionOf(t.type),
      metadata: { resourceVersion: this.store.resourceVersion },
      items: deleted,
    });
  }

  private podLog(req: IncomingMessage, res: ServerResponse, q: URLSearchParams, t: Target): void {
    const ns = t.namespace ?? 'default';
    const name = t.name ?? '';
    const pod = this.store.mustGet(PODS, ns, name);
    const logs = this.options.logs;
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
      const opts: Parameters<LogSource['read']>[3] = { previous, timestamps };
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
    const initial: Parameters<LogSource['read']>[3] = { timestamps, tailLines: 0 };
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
        if (Buffer.byteLength(out) > room)
          out = Buffer.from(out).subarray(0, room).toString('utf8');
      }
      sent += Buffer.byteLength(out);
      res.write(out);
      if (limitBytes !== undefined && sent >= limitBytes) finish();
    });
    const finish = () => {
      if (finished) return;
      finished = true;
      handle.stop();
      this.openStreams.delete(finish);
      if (!res.writableEnded) res.end();
    };
    this.openStreams.add(finish);
    handle.done.then(finish, finish);
    req.on('close', finish);
    res.on('close', finish);
  }
}

function applyNeedsManager(): ApiError {
  return new ApiError(
    422,
    'Invalid',
    'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
    {
      kind: 'PatchOptions',
      group: 'meta.k8s.io',
      causes: [
        {
          reason: 'FieldValueRequired',
          message: 'Required value: is required for apply patch',
          field: 'fieldManager',
        },
      ],
    },
  );
}

function includeParam(q: URLSearchParams): IncludeObject {
  const v = q.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}
