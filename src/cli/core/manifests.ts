import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import { OperationError } from '../errors.js';
import {
  CONTAINER_NAME,
  DEPLOYMENT,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  MANIFESTS_DIR,
} from './names.js';

/** The part of a Kubernetes object every manifest has; the rest stays untyped plain data. */
export interface KubeObjectLike {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

export interface RenderOptions {
  /** Full image reference for the server container, e.g. `multi-replica-app:0123456789ab`. */
  image: string;
  replicas: number;
  namespace: string;
}

/** Kinds in our manifests that are not namespaced. */
const CLUSTER_SCOPED_KINDS = new Set(['Namespace']);

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** `manifests/` of this package, found from this module so it works from `src/` and `dist/`. */
export function manifestsDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // src/cli/core and dist/cli/core are both three levels below the package root.
  return path.resolve(here, '..', '..', '..', MANIFESTS_DIR);
}

/** Parses one multi-document YAML text into objects; `source` names it in errors. */
export function parseManifests(text: string, source = 'manifest'): KubeObjectLike[] {
  const objects: KubeObjectLike[] = [];
  const documents = parseAllDocuments(text);
  for (const [index, document] of documents.entries()) {
    const firstError = document.errors[0];
    if (firstError) {
      throw new OperationError(
        `${source}: document ${index + 1} is not valid YAML: ${firstError.message.split('\n')[0]}`,
      );
    }
    const value: unknown = document.toJS();
    // `---` with nothing after it, or a document of only comments.
    if (value === null || value === undefined) continue;
    objects.push(asKubeObject(value, `${source}: document ${index + 1}`));
  }
  return objects;
}

function asKubeObject(value: unknown, where: string): KubeObjectLike {
  if (!isRecord(value)) throw new OperationError(`${where} is not a mapping`);
  const { apiVersion, kind, metadata } = value;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
    throw new OperationError(`${where} has no apiVersion or kind`);
  }
  if (!isRecord(metadata) || typeof metadata.name !== 'string' || metadata.name === '') {
    throw new OperationError(`${where} (${kind}) has no metadata.name`);
  }
  return value as KubeObjectLike;
}

/**
 * Reads every `*.yaml`/`*.yml` file directly in `dir` (not sub-folders: that is where kind's
 * cluster config lives), in file-name order, which is also the order `kubectl apply -f dir` uses.
 */
export function loadManifests(dir: string = manifestsDir()): KubeObjectLike[] {
  const files = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => entry.name)
    .sort(compareCodeUnits);
  if (files.length === 0) {
    throw new OperationError(`No manifests in ${dir}`, 'Reinstall replica-demo.');
  }
  return files.flatMap((file) =>
    parseManifests(readFileSync(path.join(dir, file), 'utf8'), path.join(dir, file)),
  );
}

/**
 * New objects with the server image and replica count in the Deployment and every object
 * moved to `namespace`. The input is left untouched and nothing is written anywhere.
 */
export function renderManifests(
  objects: readonly KubeObjectLike[],
  options: RenderOptions,
): KubeObjectLike[] {
  const { image, replicas, namespace } = options;
  if (!Number.isSafeInteger(replicas) || replicas < 0) {
    throw new RangeError(`replicas must be a whole number of at least 0, not ${replicas}`);
  }
  if (image.trim() === '' || /\s/.test(image)) {
    throw new RangeError(`image must be an image reference, not ${JSON.stringify(image)}`);
  }
  if (!DNS_1123_LABEL.test(namespace) || namespace.length > 63) {
    throw new RangeError(`namespace must be a DNS-1123 label, not ${JSON.stringify(namespace)}`);
  }

  let deploymentsSeen = 0;
  const rendered = objects.map((original) => {
    const object = structuredClone(original);
    if (object.kind === 'Namespace') {
      object.metadata.name = namespace;
      // `down` trusts this label to know the namespace is ours; never render one without it.
      object.metadata.labels = { ...object.metadata.labels, [MANAGED_BY_LABEL]: MANAGED_BY_VALUE };
    } else if (!CLUSTER_SCOPED_KINDS.has(object.kind)) {
      object.metadata.namespace = namespace;
    }
    if (object.kind === 'Deployment' && object.metadata.name === DEPLOYMENT) {
      deploymentsSeen += 1;
      setServerImageAndReplicas(object, image, replicas);
    }
    return object;
  });
  if (deploymentsSeen !== 1) {
    throw new OperationError(
      `Expected one Deployment ${DEPLOYMENT} in the manifests, found ${deploymentsSeen}`,
      'Reinstall replica-demo.',
    );
  }
  return rendered;
}

function setServerImageAndReplicas(deployment: KubeObjectLike, image: string, replicas: number) {
  const spec = deployment.spec;
  const template = isRecord(spec) ? spec.template : undefined;
  const podSpec = isRecord(template) ? template.spec : undefined;
  const containers = isRecord(podSpec) ? podSpec.containers : undefined;
  const server = Array.isArray(containers)
    ? containers.find((c): c is Record<string, unknown> => isRecord(c) && c.name === CONTAINER_NAME)
    : undefined;
  if (!isRecord(spec) || !server) {
    throw new OperationError(
      `Deployment ${DEPLOYMENT} has no container named ${CONTAINER_NAME}`,
      'Reinstall replica-demo.',
    );
  }
  spec.replicas = replicas;
  server.image = image;
}

/** One YAML stream, documents separated by `---`, for `kubectl apply -f -`. */
export function toYamlStream(objects: readonly KubeObjectLike[]): string {
  // No anchors/aliases: kubectl handles them, but a person reading --dry-run output should not have to.
  return objects
    .map((object) => stringify(object, { aliasDuplicateObjects: false, lineWidth: 0 }))
    .map((text) => `---\n${text}`)
    .join('');
}

/** The first object of `kind` (and `name`, when given). */
export function findObject(
  objects: readonly KubeObjectLike[],
  kind: string,
  name?: string,
): KubeObjectLike | undefined {
  return objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Locale-independent ordering, so every machine sees the same order. */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
