import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Context } from './context.js';
import { EmbeddedClusterError, ExitCode, PrerequisiteError, RefusedError } from './errors.js';
import { writeHomeFile } from './home.js';
import type { TargetFlags } from './core/flags.js';
import { NAMESPACE } from './core/names.js';
import { SIM_CONTEXT, simPaths } from '../sim/kubeconfig.js';
import { validateTargetFlags } from './core/validate.js';

/**
 * Which cluster and context a command talks to. Resolved once per run, from the flags and
 * what `up` saved, and then passed to every kubectl call and to the API client, so a
 * `kubectl config use-context` in another terminal cannot redirect a run half-way.
 */

export type TargetMode = 'sim' | 'kind' | 'context';

export interface Target {
  mode: TargetMode;
  /** Passed to every kubectl call (--context) and to the API client. */
  context: string;
  /** A kubeconfig path; undefined = kubectl's default loading rules (KUBECONFIG, ~/.kube/config). */
  kubeconfig?: string;
  /** The kind cluster name (mode 'kind'). */
  cluster?: string;
  namespace: string;
}

/** What `up` remembers in `<home>/state.json` so later commands need no flags. */
export interface SavedState {
  mode: TargetMode;
  context: string;
  kubeconfig?: string;
  cluster?: string;
  namespace: string;
  /** `up --create-cluster` made this kind cluster, so `down --delete-cluster` may remove it. */
  createdCluster?: boolean;
  /** A context outside kind and the embedded cluster that `up --context CTX --yes` was allowed to use. */
  confirmedContext?: string;
  /** The image tag `up` deployed last. */
  image?: string;
  updatedAt?: string;
}

export { SIM_CONTEXT };

/** The embedded cluster's kubeconfig, where its daemon writes it. */
export function simKubeconfigPath(home: string): string {
  return simPaths(home).kubeconfig;
}

export function statePath(home: string): string {
  return path.join(home, 'state.json');
}

export async function loadState(ctx: Pick<Context, 'home'>): Promise<SavedState | undefined> {
  let text: string;
  try {
    text = await readFile(statePath(ctx.home), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<SavedState>;
    if (
      (parsed.mode === 'sim' || parsed.mode === 'kind' || parsed.mode === 'context') &&
      typeof parsed.context === 'string' &&
      typeof parsed.namespace === 'string'
    ) {
      return parsed as SavedState;
    }
  } catch {
    // A damaged state file is treated like none: flags or defaults decide, and `up` rewrites it.
  }
  return undefined;
}

export async function saveState(
  ctx: Pick<Context, 'home' | 'now'>,
  state: SavedState,
): Promise<void> {
  await writeHomeFile(ctx.home, path.basename(statePath(ctx.home)), {
    ...state,
    updatedAt: new Date(ctx.now()).toISOString(),
  });
}

export function isKindContext(context: string): boolean {
  return context.startsWith('kind-') && context.length > 'kind-'.length;
}

export function targetFromContext(context: string, home: string, namespace: string): Target {
  if (context === SIM_CONTEXT) {
    return { mode: 'sim', context, kubeconfig: simKubeconfigPath(home), namespace };
  }
  if (isKindContext(context)) {
    return { mode: 'kind', context, cluster: context.slice('kind-'.length), namespace };
  }
  return { mode: 'context', context, namespace };
}

export interface ResolveOptions {
  /**
   * `up` starts the embedded cluster itself; every other command needs it running.
   * Default true.
   */
  requireRunningSim?: boolean;
  /**
   * `up` needs `--context CTX --yes` every time for a foreign context; commands that only
   * follow `up` accept the context `up` was allowed to use. Default false.
   */
  requireExplicitConsent?: boolean;
  /** Lists kind clusters to pick the default one; `up` passes the kind wrapper. */
  listKindClusters?: () => Promise<string[]>;
  /**
   * With no flag and nothing remembered, look for a cluster as the tour does (a reachable
   * kind cluster, else a running embedded cluster) instead of assuming kind-kind. Resolves
   * undefined when there is neither.
   */
  detect?: boolean;
}

/**
 * A kind cluster counts as reachable when kind and a running Docker daemon are there and a
 * cluster exists: "kind" if there is one by that name, else the only one.
 */
export async function reachableKindCluster(ctx: Context): Promise<string | undefined> {
  const { isKindInstalled, kindClusters } = await import('./tools/kind.js');
  const { isDockerDaemonRunning } = await import('./tools/docker.js');
  const options = { signal: ctx.signal, env: ctx.env };
  try {
    if (!(await isKindInstalled(options))) return undefined;
    if (!(await isDockerDaemonRunning(options))) return undefined;
    const clusters = await kindClusters(options);
    if (clusters.includes('kind')) return 'kind';
    return clusters.length === 1 ? clusters[0] : undefined;
  } catch {
    return undefined;
  }
}

/** The cluster a command with no flag and no saved state uses: kind first, then the embedded one. */
async function detectCluster(
  ctx: Context,
): Promise<{ cluster: string } | { sim: true } | undefined> {
  const cluster = await reachableKindCluster(ctx);
  if (cluster !== undefined) return { cluster };
  return (await simRunning(ctx.home)) ? { sim: true } : undefined;
}

/** Neither a kind cluster nor the embedded cluster: the one line that says how to get one. */
export function noCluster(): PrerequisiteError {
  return new PrerequisiteError(
    'No cluster to use: no kind cluster was found and the embedded cluster is not running.',
    ExitCode.ClusterMissing,
    'Run `replica-demo up --sim` for the embedded cluster (no Docker needed), or `replica-demo up` for kind.',
  );
}

/**
 * Flags, then the saved state, then defaults. Validates names (UsageError naming the flag)
 * and applies the safety rule: contexts outside kind and the embedded cluster need
 * `--context CTX --yes`, because the tool creates and deletes things there.
 */
export async function resolveTarget(
  given: TargetFlags,
  ctx: Context,
  options: ResolveOptions & { detect: true },
): Promise<Target | undefined>;
export async function resolveTarget(
  given: TargetFlags,
  ctx: Context,
  options?: ResolveOptions,
): Promise<Target>;
export async function resolveTarget(
  given: TargetFlags,
  ctx: Context,
  options: ResolveOptions = {},
): Promise<Target | undefined> {
  let flags = validateTargetFlags(given);
  const nothingGiven = !flags.sim && flags.context === undefined && flags.cluster === undefined;
  if (options.detect && nothingGiven && (await loadState(ctx)) === undefined) {
    const found = await detectCluster(ctx);
    if (found === undefined) return undefined;
    flags = { ...flags, ...found };
  }
  const state = await loadState(ctx);
  // A namespace given on the command line wins; the one `up` used applies only to the
  // cluster `up` used; elsewhere, the lesson's own.
  const namespaceFor = (context: string): string =>
    flags.namespace ??
    (state !== undefined && state.context === context ? state.namespace : NAMESPACE);

  let target: Target;
  let fromState = false;
  if (flags.sim) {
    target = targetFromContext(SIM_CONTEXT, ctx.home, namespaceFor(SIM_CONTEXT));
  } else if (flags.context !== undefined) {
    target = targetFromContext(flags.context, ctx.home, namespaceFor(flags.context));
  } else if (flags.cluster !== undefined) {
    target = targetFromContext(
      `kind-${flags.cluster}`,
      ctx.home,
      namespaceFor(`kind-${flags.cluster}`),
    );
  } else if (state !== undefined) {
    fromState = true;
    target = {
      mode: state.mode,
      context: state.context,
      namespace: namespaceFor(state.context),
      ...(state.kubeconfig !== undefined ? { kubeconfig: state.kubeconfig } : {}),
      ...(state.cluster !== undefined ? { cluster: state.cluster } : {}),
    };
  } else {
    const clusters = options.listKindClusters ? await options.listKindClusters() : [];
    // kind's own default name, unless exactly one other cluster exists.
    const cluster = clusters.length === 1 && clusters[0] !== undefined ? clusters[0] : 'kind';
    target = targetFromContext(`kind-${cluster}`, ctx.home, namespaceFor(`kind-${cluster}`));
  }

  if (target.mode === 'context') enforceConsent(target, flags, state, fromState, options);

  if (target.mode === 'sim' && (options.requireRunningSim ?? true)) {
    const kubeconfig = target.kubeconfig ?? simKubeconfigPath(ctx.home);
    if (!existsSync(kubeconfig) || !(await simRunning(ctx.home))) {
      throw new EmbeddedClusterError(
        'The embedded cluster is not running.',
        'Run `replica-demo up --sim` first.',
      );
    }
  }
  return target;
}

function enforceConsent(
  target: Target,
  flags: TargetFlags,
  state: SavedState | undefined,
  fromState: boolean,
  options: ResolveOptions,
): void {
  const explicit = flags.context === target.context && flags.yes === true;
  const remembered =
    !options.requireExplicitConsent &&
    state?.confirmedContext === target.context &&
    (fromState || flags.context === target.context);
  if (explicit || remembered) return;
  const how = `replica-demo up --context ${target.context} --yes`;
  throw new RefusedError(
    `Context "${target.context}" is neither a kind cluster (kind-*) nor the embedded cluster, and this tool creates and deletes objects there; it is used only when asked for by name.`,
    options.requireExplicitConsent
      ? `If that is really intended, run \`${how}\`.`
      : `If that is really intended, run \`${how}\` first.`,
  );
}

/**
 * Whether the embedded cluster's daemon answers. Loaded on demand so commands that never
 * touch it do not pay for it.
 */
async function simRunning(home: string): Promise<boolean> {
  const control = await import('./sim-control.js');
  return control.isSimRunning(home);
}

/** Tells the user which cluster a command is about to use, one line. */
export function describeTarget(target: Target): string {
  switch (target.mode) {
    case 'sim':
      return `Using the embedded cluster (replica-demo sim), context ${target.context}, namespace ${target.namespace}.`;
    case 'kind':
      return `Using kind cluster "${target.cluster ?? '?'}", context ${target.context}, namespace ${target.namespace}.`;
    case 'context':
      return `Using context ${target.context} (not kind, allowed by --yes), namespace ${target.namespace}.`;
  }
}

/** The context is missing from the kubeconfig: a cluster that cannot be reached (exit 8). */
export function contextMissing(target: Pick<Target, 'context' | 'kubeconfig'>): PrerequisiteError {
  const where = target.kubeconfig ? ` in ${target.kubeconfig}` : ' in your kubeconfig';
  const hint = isKindContext(target.context)
    ? `Run \`kind export kubeconfig --name ${target.context.slice(5)}\`, or \`replica-demo up\` first.`
    : target.context === SIM_CONTEXT
      ? 'Run `replica-demo up --sim` first.'
      : 'Check `kubectl config get-contexts`.';
  return new PrerequisiteError(
    `Context "${target.context}" was not found${where}.`,
    ExitCode.ClusterUnreachable,
    hint,
  );
}
