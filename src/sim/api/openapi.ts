import { existsSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { ResourceType } from '../resources.js';
import { ApiError } from './status.js';

/**
 * The real API server's OpenAPI v3 schemas (src/sim/openapi, captured from a Kubernetes 1.34
 * cluster with the differential suite's answers): served to `kubectl explain`, and used to
 * find the fields a request names that the real server does not know (`fieldValidation`).
 */

type Schema = Record<string, unknown>;
type Schemas = Record<string, Schema>;

// From dist/sim/api/ and from src/sim/api/ alike, the files are in <root>/src/sim/openapi/.
const DIR = new URL('../../../src/sim/openapi/', import.meta.url);

export function openApiFileName(group: string, version: string): string {
  return `${group === '' ? 'core' : group}_${version}.json.gz`;
}

const loaded = new Map<string, Schemas | undefined>();

/** The real schemas of one group-version, read on first use; undefined where none were captured. */
export function realSchemas(group: string, version: string): Schemas | undefined {
  const key = `${group}/${version}`;
  if (!loaded.has(key)) {
    const file = new URL(openApiFileName(group, version), DIR);
    let schemas: Schemas | undefined;
    if (existsSync(file)) {
      const doc = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as {
        components?: { schemas?: Schemas };
      };
      schemas = doc.components?.schemas;
    }
    loaded.set(key, schemas);
  }
  return loaded.get(key);
}

function rootSchema(type: ResourceType, schemas: Schemas): Schema | undefined {
  return Object.values(schemas).find((s) =>
    ((s['x-kubernetes-group-version-kind'] ?? []) as { group: string; kind: string }[]).some(
      (g) => g.group === type.group && g.kind === type.kind,
    ),
  );
}

function resolve(schema: Schema | undefined, schemas: Schemas): Schema | undefined {
  let s = schema;
  for (let i = 0; s && i < 10; i += 1) {
    const ref =
      (s.$ref as string | undefined) ??
      ((s.allOf as Schema[] | undefined)?.[0]?.$ref as string | undefined);
    if (!ref) return s;
    s = schemas[ref.replace('#/components/schemas/', '')];
  }
  return s;
}

function walk(
  value: unknown,
  schema: Schema | undefined,
  schemas: Schemas,
  at: string,
  out: string[],
  prune: boolean,
): void {
  const s = resolve(schema, schemas);
  if (!s || s['x-kubernetes-preserve-unknown-fields'] === true) return;
  if (Array.isArray(value)) {
    value.forEach((v, i) =>
      walk(v, s.items as Schema | undefined, schemas, `${at}[${i}]`, out, prune),
    );
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const properties = s.properties as Schemas | undefined;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    // Strategic merge patch directives are no fields.
    if (k.startsWith('$')) continue;
    const path = at === '' ? k : `${at}.${k}`;
    if (properties) {
      if (properties[k] === undefined) {
        out.push(path);
        if (prune) Reflect.deleteProperty(value, k);
      } else walk(v, properties[k], schemas, path, out, prune);
    } else if (typeof s.additionalProperties === 'object')
      walk(v, s.additionalProperties as Schema, schemas, path, out, prune);
  }
}

/** The fields of `body` the real schema of `type` does not have, as the decoder names them. */
export function unknownFields(type: ResourceType, body: unknown, prune = false): string[] {
  const schemas = realSchemas(type.group, type.version);
  if (!schemas) return [];
  const root = rootSchema(type, schemas);
  if (!root) return [];
  const out: string[] = [];
  walk(body, root, schemas, '', out, prune);
  return out;
}

/**
 * `fieldValidation`: Strict refuses a body with unknown fields (400, the decoder's words),
 * Warn (the default) answers with a warning for each, Ignore says nothing. Unknown fields
 * are then taken out of `body`: the API server's decoder never keeps them.
 */
export function checkFields(
  type: ResourceType,
  body: unknown,
  q: URLSearchParams,
  res: ServerResponse,
): void {
  const mode = q.get('fieldValidation') ?? 'Warn';
  const unknown = unknownFields(type, body, mode !== 'Strict');
  if (unknown.length === 0 || mode === 'Ignore') return;
  if (mode === 'Strict')
    throw new ApiError(
      400,
      'BadRequest',
      `${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: strict decoding error: ${unknown
        .map((f) => `unknown field "${f}"`)
        .join(', ')}`,
    );
  for (const f of unknown) addWarning(res, `unknown field "${f}"`);
}

/** One more `Warning` header, after any already set. */
export function addWarning(res: ServerResponse, text: string): void {
  const before = res.getHeader('Warning');
  const list = before === undefined ? [] : Array.isArray(before) ? before : [String(before)];
  res.setHeader('Warning', [...list, `299 - "${text.replace(/"/g, '\\"')}"`]);
}
