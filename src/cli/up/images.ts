import path from 'node:path';
import { CURL_IMAGE } from '../core/names.js';
import { formatCommand } from '../core/command-line.js';
import {
  dockerBuild,
  dockerBuildArgs,
  dockerImageExists,
  dockerPull,
  nodeImages,
  normalizeImageRef,
} from '../tools/docker.js';
import { kindLoad, kindLoadArgs, kindNodes } from '../tools/kind.js';

import { packageRoot, passed, type CurlImageState, type Run } from './run.js';

/** The images of `up` on a kind cluster: the server image built and loaded, the curl image loaded. */

/** Builds the server image unless this machine has it (same sources, same tag); true when built. */
export async function buildServerImage(run: Run, image: string): Promise<boolean> {
  const { ctx, opts } = run;
  const root = packageRoot();
  let built = false;
  if (await dockerImageExists(image, run.tools)) {
    passed(run, `image ${image} already built (same sources, same tag): not rebuilding`);
  } else {
    const args = dockerBuildArgs(image, root, path.join(root, 'Dockerfile'), opts.baseImage);
    if (opts.dryRun) {
      ctx.printer.line(`would run: ${formatCommand('docker', args)}`);
    } else {
      run.stage = `the build of ${image}`;
      run.leftBehind = 'The build was stopped; nothing in the cluster was changed.';
      const progress = ctx.printer.progress(`Building ${image}`);
      try {
        await dockerBuild(image, root, path.join(root, 'Dockerfile'), {
          ...run.tools,
          ...(opts.baseImage !== undefined ? { baseImage: opts.baseImage } : {}),
          onLine: (line) => progress.update(`Building ${image}: ${line.trim().slice(0, 80)}`),
        });
      } catch (error) {
        progress.fail(`Building ${image} failed`);
        throw error;
      }
      progress.succeed(`Built ${image}`);
      built = true;
    }
  }
  return built;
}

/** Loads the server image into the kind nodes that lack it; the nodes loaded. */
export async function loadServerImage(run: Run, image: string, cluster: string): Promise<string[]> {
  const { ctx, opts } = run;
  const missing = await nodesMissing(run, image, cluster);
  if (missing.nodes.length === 0) {
    passed(run, `${image} already on every node of "${cluster}": not loading`);
    return [];
  }
  const args = kindLoadArgs(image, cluster, missing.partial ? missing.nodes : undefined);
  if (opts.dryRun) {
    ctx.printer.line(`would run: ${formatCommand('kind', args)}`);
    return [];
  }
  run.stage = `loading ${image} into "${cluster}"`;
  run.leftBehind = 'The image may be on some nodes only; run `replica-demo up` again to finish.';
  const progress = ctx.printer.progress(`Loading ${image} into ${missing.nodes.join(', ')}`);
  try {
    await kindLoad(image, cluster, missing.partial ? missing.nodes : undefined, run.tools);
  } catch (error) {
    progress.fail(`Loading ${image} failed`);
    throw error;
  }
  progress.succeed(`Loaded ${image} into ${missing.nodes.length} node(s)`);
  return missing.nodes;
}

/** Nodes whose containerd lacks `image`; `partial` when some nodes already have it. */
async function nodesMissing(
  run: Run,
  image: string,
  cluster: string,
): Promise<{ nodes: string[]; partial: boolean }> {
  if (run.clusterPlanned) return { nodes: ['(every node of the new cluster)'], partial: false };
  const nodes = await kindNodes(cluster, run.tools);
  const wanted = normalizeImageRef(image);
  const missing: string[] = [];
  for (const node of nodes) {
    if (!(await nodeImages(node, run.tools)).has(wanted)) missing.push(node);
  }
  return { nodes: missing, partial: missing.length > 0 && missing.length < nodes.length };
}

/**
 * The blast's curl image, made available now so its absence is found at `up`, not at the
 * first blast. Not fatal: the deployment works without it, so a warning says how to fix it.
 */
export async function ensureCurlImage(run: Run, cluster: string): Promise<CurlImageState> {
  const { ctx, opts } = run;
  const missing = await nodesMissing(run, CURL_IMAGE, cluster);
  if (missing.nodes.length === 0) {
    passed(run, `${CURL_IMAGE} (for blasts) already on every node`);
    return 'on-nodes';
  }
  const how = `\`docker pull ${CURL_IMAGE} && kind load docker-image ${CURL_IMAGE} --name ${cluster}\``;
  if (!(await dockerImageExists(CURL_IMAGE, run.tools))) {
    if (opts.dryRun) {
      ctx.printer.line(`would run: ${formatCommand('docker', ['pull', CURL_IMAGE])}`);
      ctx.printer.line(`would run: ${formatCommand('kind', kindLoadArgs(CURL_IMAGE, cluster))}`);
      return 'skipped';
    }
    run.stage = `pulling ${CURL_IMAGE}`;
    const why = await dockerPull(CURL_IMAGE, run.tools);
    if (why !== undefined) {
      ctx.printer.note(
        `${ctx.printer.color.yellow('!')} ${CURL_IMAGE} (used by \`replica-demo blast\`) could not be pulled (${why}); blasts will fail until you run ${how} with network access.`,
      );
      return 'unavailable';
    }
  }
  const args = kindLoadArgs(CURL_IMAGE, cluster, missing.partial ? missing.nodes : undefined);
  if (opts.dryRun) {
    ctx.printer.line(`would run: ${formatCommand('kind', args)}`);
    return 'skipped';
  }
  run.stage = `loading ${CURL_IMAGE} into "${cluster}"`;
  await kindLoad(CURL_IMAGE, cluster, missing.partial ? missing.nodes : undefined, run.tools);
  passed(run, `loaded ${CURL_IMAGE} (for blasts) into ${missing.nodes.length} node(s)`);
  return 'loaded';
}
