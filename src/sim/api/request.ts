import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { RESOURCE_TYPES, resourceByPlural, type ResourceType } from '../resources.js';
import type { DeleteOptions } from '../registry/delete.js';
import { isObject } from './patch.js';
import { decodeProtobuf, isProtobuf } from './protobuf.js';
import { ApiError, unsupported } from './status.js';
import type { IncludeObject } from './tables.js';

/** Reading a request: its path, query parameters and body. */

const MAX_BODY = 3 * 1024 * 1024;

export interface Target {
  type: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  sub: string | undefined;
  watchPath: boolean;
}

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

export function boolParam(q: URLSearchParams, key: string): boolean {
  const v = q.get(key);
  return v === 'true' || v === '1';
}

export function intParam(q: URLSearchParams, key: string): number | undefined {
  const v = q.get(key);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n))
    throw new ApiError(400, 'BadRequest', `invalid value for ${key}: "${v}"`);
  return n;
}

/**
 * The whole body, up to MAX_BODY. A larger one is read to its end and dropped, then
 * answered 413 as the API server does; a client still writing would otherwise see its
 * connection reset instead of the answer. Past DISCARD_LIMIT the connection is cut.
 */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
      else if (size > DISCARD_LIMIT) {
        reject(tooLarge());
        req.destroy();
      }
    });
    req.on('end', () => {
      if (size > MAX_BODY) reject(tooLarge());
      else resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

/** The most of a too-large body read (and dropped) before the connection is cut. */
const DISCARD_LIMIT = 64 * 1024 * 1024;

function tooLarge(): ApiError {
  return new ApiError(
    413,
    'RequestEntityTooLarge',
    `Request entity too large: limit is ${MAX_BODY}`,
  );
}

/**
 * JSON, YAML where allowed, or Kubernetes protobuf (kubectl's typed clients send it) for the
 * kinds the embedded cluster knows; CBOR is refused (415).
 */
export function parseBody(raw: Buffer, contentType: string, allowYaml: boolean): unknown {
  if (isProtobuf(contentType)) return raw.length === 0 ? undefined : decodeProtobuf(raw);
  if (/cbor/.test(contentType))
    throw unsupported(
      415,
      `request bodies in "${contentType}" (only JSON, YAML and Kubernetes protobuf: write a manifest and use kubectl apply -f)`,
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

/** The body as a JSON object, or 400. */
export function mustObject(v: unknown, what = 'request body'): Record<string, unknown> {
  if (!isObject(v)) throw new ApiError(400, 'BadRequest', `the ${what} must be a JSON object`);
  return v;
}

/** What a Table row carries of its object (`includeObject`). */
export function includeParam(q: URLSearchParams): IncludeObject {
  const v = q.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

/** The `fieldManager` parameter, else the client's name from its User-Agent. */
export function fieldManager(q: URLSearchParams, req: IncomingMessage, fallback: string): string {
  const fm = q.get('fieldManager');
  if (fm) return fm;
  const agent = req.headers['user-agent'] ?? '';
  const first = agent.split('/')[0] ?? '';
  return first !== '' ? first : fallback;
}

/** DeleteOptions from the query and the body, as kubectl and client-node send them. */
export async function deleteOptionsOf(
  req: IncomingMessage,
  q: URLSearchParams,
): Promise<DeleteOptions & { dryRun: boolean }> {
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

/** The media type of the body, without parameters. */
export function contentTypeOf(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
}

/** An Eviction's body, for its deleteOptions (kubectl drain sends it as protobuf). */
export async function evictionOf(
  req: IncomingMessage,
): Promise<{ deleteOptions?: { gracePeriodSeconds?: number; dryRun?: string[] } }> {
  const raw = await readBody(req);
  const type = req.headers['content-type'] ?? '';
  if (raw.length === 0 || /cbor/.test(type)) return {};
  const body = parseBody(raw, type, false);
  return isObject(body ?? null)
    ? (body as { deleteOptions?: { gracePeriodSeconds?: number } })
    : {};
}

/**
 * A SelfSubjectAccessReview (`kubectl auth can-i`): the embedded cluster's one user holds
 * its token and may do anything, so every review is allowed, as for a cluster admin.
 * kubectl sends the review as protobuf; its spec is echoed, as the real server does.
 */
export async function accessReview(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readBody(req);
  const type = req.headers['content-type'] ?? '';
  const body = raw.length === 0 || /cbor/.test(type) ? {} : parseBody(raw, type, false);
  const spec = isObject(body ?? null) ? ((body as { spec?: unknown }).spec ?? {}) : {};
  return {
    kind: 'SelfSubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: {},
    spec,
    status: { allowed: true, reason: 'the embedded cluster allows its one user everything' },
  };
}
