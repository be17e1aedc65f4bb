import { UsageError } from '../errors.js';
import type { RawOptions } from './options.js';
import { DEFAULT_REPLICAS, MAX_REPLICAS, MIN_REPLICAS, NAMESPACE } from './names.js';

/**
 * Flag checks that need nothing but the flags: they run before any subprocess or API call,
 * so a typo never reaches a cluster. Each error names the flag and says how to fix it.
 */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * kind names its node containers `<cluster>-control-plane`, `<cluster>-worker2`; those must
 * stay valid 63-character hostnames, so the cluster name gets what is left of the 63.
 */
export const MAX_CLUSTER_NAME = 63 - '-control-plane'.length;

function dnsLabelProblem(value: string, max: number): string | undefined {
  if (value === '') return 'is empty';
  if (value.length > max) return `is ${value.length} characters long (at most ${max})`;
  if (value.startsWith('-')) return 'starts with "-"';
  if (value.endsWith('-')) return 'ends with "-"';
  if (/[A-Z]/.test(value)) return 'has upper-case letters';
  if (!DNS_LABEL.test(value)) return 'has characters other than a-z, 0-9 and "-"';
  return undefined;
}

export function validateNamespace(value: string): string {
  const problem = dnsLabelProblem(value, 63);
  if (problem !== undefined) {
    throw new UsageError(
      `--namespace ${JSON.stringify(value)} ${problem}; a namespace is a DNS-1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters (e.g. ${NAMESPACE}).`,
    );
  }
  return value;
}

export function validateClusterName(value: string): string {
  const problem = dnsLabelProblem(value, MAX_CLUSTER_NAME);
  if (problem !== undefined) {
    throw new UsageError(
      `--cluster ${JSON.stringify(value)} ${problem}; a kind cluster name is lower-case letters, digits and "-", starting and ending with a letter or digit, at most ${MAX_CLUSTER_NAME} characters (e.g. kind).`,
    );
  }
  return value;
}

export function validateContextName(value: string): string {
  if (value.trim() === '') {
    throw new UsageError(
      '--context is empty; give a context name from `kubectl config get-contexts -o name`.',
    );
  }
  if (value.startsWith('-')) {
    throw new UsageError(
      `--context ${JSON.stringify(value)} starts with "-"; give a context name from \`kubectl config get-contexts -o name\`.`,
    );
  }
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(value) || value.length > 253) {
    throw new UsageError(
      `--context ${JSON.stringify(value)} is not a usable context name; give one from \`kubectl config get-contexts -o name\`.`,
    );
  }
  return value;
}

function integerIn(flag: string, raw: string, min: number, max: number, example: number): number {
  const text = raw.trim();
  if (!/^\d+$/.test(text)) {
    throw new UsageError(
      `${flag} ${JSON.stringify(raw)} is not a whole number; give an integer from ${min} to ${max} (e.g. ${flag} ${example}).`,
    );
  }
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(
      `${flag} ${text} is out of range; give an integer from ${min} to ${max} (e.g. ${flag} ${example}).`,
    );
  }
  return value;
}

export function validateReplicas(raw: string): number {
  return integerIn('--replicas', raw, MIN_REPLICAS, MAX_REPLICAS, DEFAULT_REPLICAS);
}

/** A day is far more than any rollout needs; a larger value is a typo (milliseconds?). */
export const MAX_TIMEOUT_SECONDS = 86_400;

export function validateTimeout(raw: string, example = 180): number {
  return integerIn('--timeout', raw, 1, MAX_TIMEOUT_SECONDS, example);
}

const str = (raw: RawOptions, key: string): string | undefined => {
  const value = raw[key];
  return typeof value === 'string' ? value : undefined;
};
const flag = (raw: RawOptions, key: string): boolean => raw[key] === true;

/** The cluster selection flags every cluster command shares, checked alone and together. */
export interface TargetFlags {
  sim: boolean;
  cluster?: string;
  context?: string;
  namespace?: string;
}

export function validateTargetFlags(raw: RawOptions): TargetFlags {
  const cluster = str(raw, 'cluster');
  const context = str(raw, 'context');
  const namespace = str(raw, 'namespace');
  const sim = flag(raw, 'sim');
  if (cluster !== undefined) validateClusterName(cluster);
  if (context !== undefined) validateContextName(context);
  if (namespace !== undefined) validateNamespace(namespace);
  if (sim && cluster !== undefined) {
    throw new UsageError(
      '--sim and --cluster cannot be used together: --sim uses the embedded cluster, --cluster a kind cluster; drop one.',
    );
  }
  if (sim && context !== undefined) {
    throw new UsageError(
      '--sim and --context cannot be used together: --sim always uses the embedded cluster context replica-demo-sim; drop one.',
    );
  }
  if (cluster !== undefined && context !== undefined && context !== `kind-${cluster}`) {
    throw new UsageError(
      `--context ${context} does not belong to --cluster ${cluster} (kind names its context kind-${cluster}); drop one of them.`,
    );
  }
  return {
    sim,
    ...(cluster !== undefined ? { cluster } : {}),
    ...(context !== undefined ? { context } : {}),
    ...(namespace !== undefined ? { namespace } : {}),
  };
}

export interface UpOptions extends TargetFlags {
  namespace: string;
  replicas: number;
  timeoutSeconds: number;
  createCluster: boolean;
  build: boolean;
  /** The Dockerfile's BASE_IMAGE; undefined keeps the Dockerfile's own. */
  baseImage?: string;
  dryRun: boolean;
  yes: boolean;
}

/** An image reference as `docker build --build-arg` passes it on: one word, not a flag. */
export function validateBaseImage(value: string): string {
  if (value.trim() === '' || /\s/.test(value) || value.startsWith('-')) {
    throw new UsageError(
      `--base-image ${JSON.stringify(value)} is not an image reference; give one like node:22-alpine or registry.example/node:22 (or unset REPLICA_DEMO_BASE_IMAGE).`,
    );
  }
  return value;
}

/** Every `up` flag, alone and in combination. Pure: no file, process or network. */
export function validateUpOptions(raw: RawOptions): UpOptions {
  const target = validateTargetFlags(raw);
  const replicas = validateReplicas(str(raw, 'replicas') ?? String(DEFAULT_REPLICAS));
  const timeoutSeconds = validateTimeout(str(raw, 'timeout') ?? '180');
  const createCluster = flag(raw, 'createCluster');
  // commander turns `--no-build` into build: false and leaves it true otherwise.
  const build = raw.build !== false;
  const baseImage = str(raw, 'baseImage');
  if (target.sim && createCluster) {
    throw new UsageError(
      '--sim and --create-cluster cannot be used together: --sim starts the embedded cluster itself, --create-cluster makes a kind cluster; drop one.',
    );
  }
  if (createCluster && target.context !== undefined && !target.context.startsWith('kind-')) {
    throw new UsageError(
      `--create-cluster makes a kind cluster, whose context is kind-<name>, not ${target.context}; use --cluster NAME instead of --context.`,
    );
  }
  if (createCluster && !build) {
    throw new UsageError(
      '--no-build cannot be used with --create-cluster: a new cluster has no image loaded, so the pods could never start; drop --no-build.',
    );
  }
  return {
    ...target,
    namespace: target.namespace ?? NAMESPACE,
    replicas,
    timeoutSeconds,
    createCluster,
    build,
    ...(baseImage !== undefined ? { baseImage: validateBaseImage(baseImage) } : {}),
    dryRun: flag(raw, 'dryRun'),
    yes: flag(raw, 'yes'),
  };
}

export interface DownOptions extends TargetFlags {
  namespace: string;
  timeoutSeconds: number;
  deleteCluster: boolean;
  /** With the embedded cluster: remove the namespace only and leave the cluster running. */
  keepCluster: boolean;
  dryRun: boolean;
  yes: boolean;
}

export function validateDownOptions(raw: RawOptions): DownOptions {
  const target = validateTargetFlags(raw);
  const timeoutSeconds = validateTimeout(str(raw, 'timeout') ?? '120', 120);
  const deleteCluster = flag(raw, 'deleteCluster');
  if (target.sim && deleteCluster) {
    throw new UsageError(
      '--delete-cluster is for kind clusters; with --sim, `down` already stops the embedded cluster: drop --delete-cluster.',
    );
  }
  const keepCluster = flag(raw, 'keepCluster');
  if (keepCluster && deleteCluster) {
    throw new UsageError(
      '--keep-cluster and --delete-cluster contradict each other: drop one of them.',
    );
  }
  if (deleteCluster && target.context !== undefined && !target.context.startsWith('kind-')) {
    throw new UsageError(
      `--delete-cluster deletes a kind cluster, and ${target.context} is not a kind context; use --cluster NAME.`,
    );
  }
  return {
    ...target,
    namespace: target.namespace ?? NAMESPACE,
    timeoutSeconds,
    deleteCluster,
    keepCluster,
    dryRun: flag(raw, 'dryRun'),
    yes: flag(raw, 'yes'),
  };
}
