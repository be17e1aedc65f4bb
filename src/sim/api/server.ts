import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { timingSafeEqual } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { RESOURCE_TYPES, apiVersionOf, type ResourceType } from '../resources.js';
import { SelectorError } from '../selectors.js';
import type { KubeObject, Store } from '../store.js';
import { qualified, type AdmitPod } from '../registry/common.js';
import { applyObject, createObject, patchObject, updateObject } from '../registry/objects.js';
import { patchScale, readScale, updateScale } from '../registry/scale.js';
import { deleteCollection, deleteObject } from '../registry/delete.js';
import { evictPod } from '../registry/eviction.js';
import { podSecurityWarningFor } from '../admission.js';
import {
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  builtInPath,
  openApiDocument,
  openApiIndex,
  versionInfo,
} from './discovery.js';
import type { Json } from './patch.js';
import {
  ApiError,
  failure,
  sendJson,
  sendStatus,
  statusFromError,
  unsupported,
  type Status,
} from './status.js';
import { toTable, wantsTable } from './tables.js';
import { continueToken, itemsAfter } from './pages.js';
import { addWarning, checkFields } from './openapi.js';
import { shownAs, storedFieldSelector } from './event-view.js';
import { createPortForward, type PodAddressLookup } from './portforward.js';
import { isProtobuf } from './protobuf.js';
import type { PodLogs } from '../kubelet/logs.js';
import {
  boolParam,
  contentTypeOf,
  accessReview,
  deleteOptionsOf,
  evictionOf,
  fieldManager,
  includeParam,
  intParam,
  mustObject,
  parseBody,
  parseResourcePath,
  readBody,
  type Target,
} from './request.js';
import { servePodLog, serveWatch, type StreamContext } from './streams.js';

export interface ApiServerOptions {
  store: Store;
  token: string;
  /** The runtime's pod log store, which the API serves as `pods/log`. */
  logs?: PodLogs;
  /** Pod admission (Pod Security) for pods created through the API. */
  admitPod?: AdmitPod;
  now?: () => number;
  log?: (line: string) => void;
  /** PEM key and certificate: kubectl sends its bearer token only over TLS. Plain HTTP without. */
  tls?: { key: string; cert: string };
}

function typeByPlural(plural: string): ResourceType {
  const t = RESOURCE_TYPES.find((r) => r.plural === plural);
  if (!t) throw new Error(`no resource type ${plural}`);
  return t;
}

const NAMESPACES = typeByPlural('namespaces');
const PODS = typeByPlural('pods');

export class ApiServer {
  readonly server: http.Server | https.Server;
  private readonly store: Store;
  private readonly token: Buffer;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  /** What watches and followed logs need; they end when the server closes. */
  private readonly streams: StreamContext;

  constructor(private readonly options: ApiServerOptions) {
    this.store = options.store;
    this.token = Buffer.from(options.token);
    this.now = options.now ?? Date.now;
    this.log = options.log ?? (() => undefined);
    this.streams = { store: this.store, now: this.now, logs: options.logs, streams: new Set() };
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
    for (const stop of this.streams.streams) stop();
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
    if (method === 'POST' && path === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews') {
      sendJson(res, 201, await accessReview(req));
      return;
    }
    const target = parseResourcePath(path);
    if (!target) {
      const parts = path.split('/').filter(Boolean);
      const sub =
        parts.length >= 6 && parts.includes('namespaces') ? parts[parts.length - 1] : undefined;
      if (
        sub &&
        ['exec', 'attach', 'proxy', 'binding', 'ephemeralcontainers', 'resize'].includes(sub)
      )
        throw unsupported(404, `the ${sub} subresource`);
      throw new ApiError(
        404,
        'NotFound',
        builtInPath(path)
          ? `the server could not find the requested resource (the embedded cluster does not serve ${path})`
          : 'the server could not find the requested resource',
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
    if (type.plural === 'endpoints')
      res.setHeader(
        'Warning',
        '299 - "v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice"',
      );
    if (t.namespace !== undefined && type === NAMESPACES) throw unsupported(404, 'that path');
    if (type.notRun !== undefined && method !== 'GET' && method !== 'DELETE')
      throw unsupported(405, type.notRun);
    if (sub !== undefined && !type.subresources.includes(sub))
      throw unsupported(404, `the ${type.plural}/${sub} subresource`);
    if (t.watchPath || (method === 'GET' && !name && boolParam(q, 'watch'))) {
      if (method !== 'GET') throw unsupported(405, `${method} on a watch path`);
      serveWatch(this.streams, req, res, q, t);
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
      servePodLog(this.streams, req, res, q, t);
      return;
    }
    if (sub === 'portforward') {
      throw new ApiError(
        400,
        'BadRequest',
        'the embedded cluster serves pods/portforward only over a websocket upgrade: v4.channel.k8s.io (client-node PortForward) or SPDY/3.1+portforward.k8s.io (kubectl 1.31 and newer)',
      );
    }
    if (sub === 'scale') return this.scale(req, res, t, method, isDryRun);
    if (sub === 'eviction') {
      if (method !== 'POST') throw unsupported(405, `${method} on pods/eviction`);
      sendJson(
        res,
        201,
        evictPod(this.store, t.namespace ?? '', name, await evictionOf(req), isDryRun),
      );
      return;
    }
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
      if (warning) addWarning(res, warning);
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
    sendJson(res, code, shownAs(type, obj));
  }

  private get(req: IncomingMessage, res: ServerResponse, q: URLSearchParams, t: Target): void {
    const obj = this.store.mustGet(t.type, t.namespace, t.name ?? '');
    this.respond(req, res, q, t.type, 200, obj);
  }

  private list(req: IncomingMessage, res: ServerResponse, q: URLSearchParams, t: Target): void {
    const { items, resourceVersion } = this.store.list(t.type, {
      namespace: t.namespace,
      labelSelector: q.get('labelSelector') ?? undefined,
      fieldSelector: storedFieldSelector(t.type, q.get('fieldSelector') ?? undefined),
    });
    const limit = intParam(q, 'limit');
    const token = q.get('continue');
    let page = token ? itemsAfter(items, token) : items;
    const metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number } = {
      resourceVersion,
    };
    if (limit !== undefined && limit > 0 && page.length > limit) {
      const last = page[limit - 1] as KubeObject;
      metadata.continue = continueToken(last, resourceVersion);
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
      items: page.map((o) => shownAs(t.type, o)),
    });
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
    const body = mustObject(parseBody(raw, contentType, true));
    // A protobuf body holds only the fields its Go type has: nothing to warn about.
    if (!isProtobuf(contentType)) checkFields(t.type, body, q, res);
    const created = createObject(this.store, t.type, t.namespace, body, {
      manager: fieldManager(q, req, 'unknown'),
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
    checkFields(t.type, body, q, res);
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
    const contentType = contentTypeOf(req);
    const raw = await readBody(req);
    const name = t.name ?? '';
    if (contentType === 'application/apply-patch+yaml') {
      const manager = q.get('fieldManager');
      if (!manager) throw applyNeedsManager();
      const applied = mustObject(parseBody(raw, contentType, true)) as Record<string, Json>;
      const { object, created } = applyObject(this.store, t.type, t.namespace, name, applied, {
        manager,
        force: boolParam(q, 'force'),
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
    // A merge patch names fields as the object does; a JSON patch's paths do not, so its
    // result is checked instead, as the API server decodes it.
    const isJsonPatch = contentType === 'application/json-patch+json';
    if (!isJsonPatch) checkFields(t.type, patch, q, res);
    const written = patchObject(this.store, t.type, t.namespace, name, contentType, patch, {
      dryRun,
      subresource: t.sub,
      ...(isJsonPatch ? { check: (next: unknown) => checkFields(t.type, next, q, res) } : {}),
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
    const contentType = contentTypeOf(req);
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

  private async delete(
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
    t: Target,
    dryRunQuery: boolean,
  ): Promise<void> {
    const opts = await deleteOptionsOf(req, q);
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
    const opts = await deleteOptionsOf(req, q);
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
