import { rm } from 'node:fs/promises';
import type { Context } from '../context.js';
import { quietStdout } from '../output.js';
import {
  ExitCode,
  InterruptedError,
  NotManagedError,
  RefusedError,
  StatusExit,
  UsageError,
} from '../errors.js';
import type { DownFlags } from '../core/flags.js';
import { DEPLOYMENT, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../core/names.js';
import { registryOf } from '../core/registry.js';
import { formatCommand } from '../core/command-line.js';
import { validateDownOptions, type DownOptions } from '../core/validate.js';
import { loadState, resolveTarget, statePath, type SavedState, type Target } from '../target.js';
import { kindClusters, kindDeleteCluster } from '../tools/kind.js';
import {
  kubectlDeleteNamespace,
  kubectlDeleteNamespaceArgs,
  kubectlDeleteWorkloads,
  kubectlDeleteWorkloadsArgs,
  kubectlGetObjects,
  verifyKubectl,
} from '../tools/kubectl.js';

/**
 * `replica-demo down`: removes what `up` made and nothing else. The namespace goes only
 * when it carries our managed-by label; the kind cluster only when `up --create-cluster`
 * made it and `--delete-cluster` asks for it.
 */

export interface DownResult {
  /** null when there was no cluster at all. */
  target: Target | null;
  dryRun: boolean;
  namespaceExisted: boolean;
  deletedNamespace: boolean;
  stoppedSim: boolean;
  deletedCluster: boolean;
}

export async function down(raw: DownFlags, given: Context): Promise<DownResult> {
  const ctx = raw.json ? { ...given, printer: quietStdout(given.printer) } : given;
  const result = await downWith(raw, ctx);
  if (raw.json) {
    const t = result.target;
    given.printer.line(
      JSON.stringify({
        ...result,
        target: t
          ? { mode: t.mode, context: t.context, namespace: t.namespace, cluster: t.cluster ?? null }
          : null,
      }),
    );
  }
  return result;
}

async function downWith(raw: DownFlags, ctx: Context): Promise<DownResult> {
  const opts = validateDownOptions(raw);
  const state = await loadState(ctx);
  const target = await resolveTarget(raw, ctx, { requireRunningSim: false, detect: true });
  const result: DownResult = {
    target: target ?? null,
    dryRun: opts.dryRun,
    namespaceExisted: false,
    deletedNamespace: false,
    stoppedSim: false,
    deletedCluster: false,
  };
  if (target === undefined) {
    ctx.printer.note(
      'Nothing to remove: no kind cluster was found and the embedded cluster is not running.',
    );
    return result;
  }
  if (opts.deleteCluster) checkClusterIsOurs(target, state);
  if (!(await clusterIsThere(target, ctx))) return result;

  const stopsSim = target.mode === 'sim' && !opts.keepCluster;
  await verifyKubectl({ signal: ctx.signal, env: ctx.env });
  const deleteNamespace = await namespaceToDelete(target, opts, ctx, result);
  const ns = target.namespace;
  const actions = [
    ...(deleteNamespace ? [`namespace ${ns} (context ${target.context})`] : []),
    ...(stopsSim ? ['the embedded cluster and its pod processes'] : []),
    ...(opts.deleteCluster ? [`kind cluster "${target.cluster ?? ''}"`] : []),
  ];
  if (actions.length === 0) return result;
  if (target.mode === 'sim') ctx.printer.note('Using the embedded cluster (replica-demo sim).');

  if (opts.dryRun) {
    printPlan(ctx, target, opts, { deleteNamespace, stopsSim });
    return result;
  }
  // Only now, with something to delete: a CI job must say --yes.
  if (!opts.yes && !ctx.interactive) {
    throw new RefusedError(
      `\`down\` would delete ${actions.join(' and ')}, and there is no terminal to confirm it;`,
      'pass --yes to delete without asking (or --dry-run to see what would go).',
    );
  }
  if (!opts.yes && !(await confirm(`Delete ${actions.join(' and ')}? [y/N] `, ctx))) {
    if (ctx.signal.aborted) throw new InterruptedError('Interrupted: nothing was deleted.');
    throw new StatusExit('Not confirmed: nothing was deleted.', ExitCode.Refused);
  }
  if (deleteNamespace) {
    await removeNamespace(target, opts, ctx);
    result.deletedNamespace = true;
  }
  if (stopsSim) {
    const control = await import('../sim-control.js');
    const progress = ctx.printer.progress('Stopping the embedded cluster');
    result.stoppedSim = await control.stopSim(ctx.home);
    progress.succeed('Stopped the embedded cluster; no pod process is left');
  }
  if (opts.deleteCluster && target.cluster !== undefined) {
    await removeKindCluster(target.cluster, ctx);
    result.deletedCluster = true;
  }
  return result;
}

/** The cluster the target names is there to delete from; when it is not, says so. */
async function clusterIsThere(target: Target, ctx: Context): Promise<boolean> {
  if (target.mode === 'sim') {
    const control = await import('../sim-control.js');
    if (control.isSimRunning(ctx.home)) return true;
    ctx.printer.note('The embedded cluster is not running: nothing to delete.');
    return false;
  }
  if (target.mode === 'kind' && target.cluster !== undefined) {
    // Only a clear answer counts: without kind or Docker, kubectl says what it can.
    const clusters = await kindClusters({ signal: ctx.signal, env: ctx.env }).catch(
      () => undefined,
    );
    if (clusters !== undefined && !clusters.includes(target.cluster)) {
      ctx.printer.note(`kind cluster "${target.cluster}" does not exist: nothing to delete.`);
      return false;
    }
  }
  return true;
}

/**
 * Whether the namespace goes: only when it exists and carries our managed-by label; one
 * without it belongs to someone else, and `down` refuses outright (exit 10).
 */
async function namespaceToDelete(
  target: Target,
  opts: DownOptions,
  ctx: Context,
  result: DownResult,
): Promise<boolean> {
  const ns = target.namespace;
  if (opts.deleteCluster) {
    ctx.printer.note(
      `Deleting kind cluster "${target.cluster ?? ''}" removes namespace ${ns} with it; not deleting it separately.`,
    );
    return false;
  }
  const tools = { signal: ctx.signal, env: ctx.env };
  const [namespace] = await kubectlGetObjects(
    [{ resource: 'namespace', name: ns }],
    ns,
    target,
    tools,
  );
  if (namespace === undefined) {
    ctx.printer.note(
      `Namespace ${ns} does not exist on context ${target.context}: nothing to delete there.`,
    );
    return false;
  }
  result.namespaceExisted = true;
  const labels =
    (namespace as { metadata?: { labels?: Record<string, string> } }).metadata?.labels ?? {};
  if (labels[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE) {
    throw new NotManagedError(
      `Namespace ${ns} on context ${target.context} lacks the label ${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}, so replica-demo did not create it; nothing was deleted.`,
      `If you mean to remove it, run \`kubectl delete namespace ${ns} --context ${target.context}\` yourself.`,
    );
  }
  return true;
}

function printPlan(
  ctx: Context,
  target: Target,
  opts: DownOptions,
  what: { deleteNamespace: boolean; stopsSim: boolean },
): void {
  const ns = target.namespace;
  const say = (text: string) => ctx.printer.line(text);
  if (what.deleteNamespace) {
    say(
      `would run: ${formatCommand('kubectl', kubectlDeleteWorkloadsArgs(ns, target, opts.timeoutSeconds))}`,
    );
    say(`would run: ${formatCommand('kubectl', kubectlDeleteNamespaceArgs(ns, target))}`);
    say(
      `would call: GET+WATCH /api/v1/namespaces?fieldSelector=metadata.name=${ns} until it is gone`,
    );
  }
  if (what.stopsSim) say('would stop: the embedded cluster (replica-demo sim stop)');
  if (opts.deleteCluster) {
    say(
      `would run: ${formatCommand('kind', ['delete', 'cluster', '--name', target.cluster ?? ''])}`,
    );
    say(`would remove: ${statePath(ctx.home)}`);
  }
  ctx.printer.note('Dry run: only read-only checks ran; nothing was deleted.');
}

/**
 * Stops the workloads first (each pod drains its connections), then deletes the namespace
 * and waits, by watch, until it is gone.
 */
async function removeNamespace(target: Target, opts: DownOptions, ctx: Context): Promise<void> {
  const ns = target.namespace;
  const tools = { signal: ctx.signal, env: ctx.env };
  const registry = await deployedFromRegistry(target, ctx);
  // Not fatal: deleting the namespace removes the same things, only more slowly.
  const stopping = ctx.printer.progress(
    `Stopping the pods in ${ns} (each drains its connections first)`,
  );
  const stoppedAt = Date.now();
  try {
    await kubectlDeleteWorkloads(ns, target, opts.timeoutSeconds, tools);
    stopping.succeed(
      `Stopped the pods in ${ns} (${((Date.now() - stoppedAt) / 1000).toFixed(1)} s)`,
    );
  } catch (error) {
    if (ctx.signal.aborted) {
      stopping.stop();
      throw new InterruptedError(
        `Interrupted: the pods in ${ns} are being deleted; namespace ${ns} is still there (\`replica-demo down\` again removes it).`,
      );
    }
    stopping.fail(
      `Could not stop the pods in ${ns} first (${error instanceof Error ? error.message : String(error)}); deleting the namespace removes them too.`,
    );
  }
  ctx.leftovers.add(
    `namespace ${ns}, being deleted (the cluster finishes that on its own; \`replica-demo down\` again waits for it)`,
  );
  await kubectlDeleteNamespace(ns, target, tools);
  const { connect } = await import('../kube/api.js');
  const { waitForNamespaceGone } = await import('../kube/rollout.js');
  const progress = ctx.printer.progress(`Deleting namespace ${ns}`);
  let elapsed: number;
  try {
    elapsed = await waitForNamespaceGone(connect(target), {
      timeoutMs: opts.timeoutSeconds * 1000,
      signal: ctx.signal,
      onProgress: (text) => progress.update(text),
    });
  } catch (error) {
    progress.stop();
    throw error;
  }
  progress.succeed(`Deleted namespace ${ns} (${(elapsed / 1000).toFixed(1)} s)`);
  if (registry !== undefined) {
    ctx.printer.note(
      `The images \`up --registry\` pushed stay in ${registry}: down removes only what it made in the cluster; remove them with the registry's own tools.`,
    );
  }
}

/** The registry `up --registry` pushed the running images to, read before they are deleted. */
async function deployedFromRegistry(target: Target, ctx: Context): Promise<string | undefined> {
  try {
    const [deployment] = await kubectlGetObjects(
      [{ resource: 'deployment', name: DEPLOYMENT }],
      target.namespace,
      target,
      { signal: ctx.signal, env: ctx.env },
    );
    const spec = deployment as
      { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } } | undefined;
    return registryOf(spec?.spec?.template?.spec?.containers?.[0]?.image);
  } catch {
    return undefined;
  }
}

async function removeKindCluster(cluster: string, ctx: Context): Promise<void> {
  const progress = ctx.printer.progress(`Deleting kind cluster "${cluster}"`);
  try {
    await kindDeleteCluster(cluster, { signal: ctx.signal, env: ctx.env });
  } catch (error) {
    progress.fail(`Deleting kind cluster "${cluster}" failed`);
    throw error;
  }
  progress.succeed(`Deleted kind cluster "${cluster}"`);
  // The saved state points at a cluster that no longer exists.
  await rm(statePath(ctx.home), { force: true });
}

function checkClusterIsOurs(target: Target, state: SavedState | undefined): void {
  if (target.mode !== 'kind' || target.cluster === undefined) {
    throw new UsageError(
      `--delete-cluster deletes a kind cluster, and context ${target.context} is not one; drop --delete-cluster.`,
    );
  }
  const ours =
    state?.createdCluster === true && state.mode === 'kind' && state.cluster === target.cluster;
  if (!ours) {
    throw new RefusedError(
      `kind cluster "${target.cluster}" was not created by \`replica-demo up --create-cluster\`, so \`down\` does not delete it; nothing was deleted.`,
      `Delete it yourself with \`kind delete cluster --name ${target.cluster}\` if you mean to, or drop --delete-cluster.`,
    );
  }
}

/** y/N; anything but y/yes is a no. */
async function confirm(question: string, ctx: Context): Promise<boolean> {
  const answer = await ctx.ask(question);
  return answer !== undefined && /^y(es)?$/i.test(answer.trim());
}
