import path from 'node:path';
import { ExitCode, PrerequisiteError } from '../errors.js';
import { KIND_CLUSTER_CONFIG } from '../core/names.js';
import { formatCommand } from '../core/command-line.js';
import { saveState, type SavedState, type Target } from '../target.js';
import { kindCreateArgs, kindCreateCluster } from '../tools/kind.js';
import { stateFor } from './apply.js';
import { packageRoot, passed, type Run } from './run.js';

/**
 * The kind cluster `up` deploys to: there already, or made with --create-cluster (and then
 * remembered, so `down --delete-cluster` may remove it). Resolves true when it made one.
 */
export async function ensureKindCluster(
  run: Run,
  target: Target,
  clusters: readonly string[],
  state: SavedState | undefined,
): Promise<boolean> {
  const { ctx, opts } = run;
  const cluster = target.cluster ?? 'kind';
  if (clusters.includes(cluster)) {
    passed(run, `kind cluster "${cluster}" exists`);
    return false;
  }
  if (!opts.createCluster) {
    throw new PrerequisiteError(
      `The kind cluster "${cluster}" does not exist.`,
      ExitCode.ClusterMissing,
      `Create it with \`replica-demo up --cluster ${cluster} --create-cluster\` (or \`kind create cluster --name ${cluster}\`), or use \`replica-demo up --sim\`.`,
    );
  }
  const config = path.join(packageRoot(), KIND_CLUSTER_CONFIG);
  if (opts.dryRun) {
    ctx.printer.line(`would run: ${formatCommand('kind', kindCreateArgs(cluster, config))}`);
    run.clusterPlanned = true;
    return false;
  }
  run.stage = `the creation of kind cluster "${cluster}"`;
  run.leftBehind = `The cluster may be half made: \`kind delete cluster --name ${cluster}\` removes it.`;
  const progress = ctx.printer.progress(`Creating kind cluster "${cluster}" (a minute or two)`);
  try {
    await kindCreateCluster(cluster, config, {
      ...run.tools,
      onLine: (line) => progress.update(`Creating kind cluster "${cluster}": ${line.trim()}`),
    });
  } catch (error) {
    progress.fail(`Creating kind cluster "${cluster}" failed`);
    throw error;
  }
  progress.succeed(`Created kind cluster "${cluster}"`);
  await saveState(ctx, stateFor(target, state, { createdCluster: true }));
  return true;
}
