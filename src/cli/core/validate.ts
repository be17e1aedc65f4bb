import { UsageError } from '../errors.js';
import type { DownFlags, TargetFlags, UpFlags } from './flags.js';
import { NAMESPACE } from './names.js';

/**
 * Flag checks that need nothing but the flags: they run before any subprocess or API call,
 * so a typo never reaches a cluster. Each error names the flag and says how to fix it.
 * Single values are checked as commander parses them (the validate* of names here, and
 * core/flags.ts); how flags combine is checked below.
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

/** The cluster selection flags every cluster command shares, checked together. */
export function validateTargetFlags(flags: TargetFlags): TargetFlags {
  const { cluster, context } = flags;
  const sim = flags.sim === true;
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
    ...(flags.sim !== undefined ? { sim: flags.sim } : {}),
    ...(cluster !== undefined ? { cluster } : {}),
    ...(context !== undefined ? { context } : {}),
    ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
    ...(flags.yes !== undefined ? { yes: flags.yes } : {}),
  };
}

export interface UpOptions extends TargetFlags {
  sim: boolean;
  namespace: string;
  replicas: number;
  timeoutSeconds: number;
  createCluster: boolean;
  build: boolean;
  /** The Dockerfile's BASE_IMAGE; undefined keeps the Dockerfile's own. */
  baseImage?: string;
  /** Checked HOST[:PORT]/PATH the images are pushed to and pulled from. */
  registry?: string;
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

/** How `up`'s flags combine. Pure: no file, process or network. */
export function validateUpOptions(flags: UpFlags): UpOptions {
  const target = validateTargetFlags(flags);
  const createCluster = flags.createCluster === true;
  // commander turns `--no-build` into build: false and leaves it true otherwise.
  const build = flags.build !== false;
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
  if (target.sim && flags.registry !== undefined) {
    throw new UsageError(
      '--registry cannot be used with --sim: the embedded cluster runs no images, it runs the server from dist/; drop --registry.',
    );
  }
  return {
    ...target,
    sim: target.sim === true,
    namespace: target.namespace ?? NAMESPACE,
    replicas: flags.replicas,
    timeoutSeconds: flags.timeout,
    createCluster,
    build,
    ...(flags.baseImage !== undefined ? { baseImage: flags.baseImage } : {}),
    ...(flags.registry !== undefined ? { registry: flags.registry } : {}),
    dryRun: flags.dryRun === true,
    yes: flags.yes === true,
  };
}

export interface DownOptions extends TargetFlags {
  sim: boolean;
  namespace: string;
  timeoutSeconds: number;
  deleteCluster: boolean;
  /** With the embedded cluster: remove the namespace only and leave the cluster running. */
  keepCluster: boolean;
  dryRun: boolean;
  yes: boolean;
}

/** How `down`'s flags combine. */
export function validateDownOptions(flags: DownFlags): DownOptions {
  const target = validateTargetFlags(flags);
  const deleteCluster = flags.deleteCluster === true;
  if (target.sim && deleteCluster) {
    throw new UsageError(
      '--delete-cluster is for kind clusters; with --sim, `down` already stops the embedded cluster: drop --delete-cluster.',
    );
  }
  const keepCluster = flags.keepCluster === true;
  if (deleteCluster && target.context !== undefined && !target.context.startsWith('kind-')) {
    throw new UsageError(
      `--delete-cluster deletes a kind cluster, and ${target.context} is not a kind context; use --cluster NAME.`,
    );
  }
  return {
    ...target,
    sim: target.sim === true,
    namespace: target.namespace ?? NAMESPACE,
    timeoutSeconds: flags.timeout,
    deleteCluster,
    keepCluster,
    dryRun: flags.dryRun === true,
    yes: flags.yes === true,
  };
}
