import { CURL_IMAGE } from '../core/names.js';
import { formatCommand } from '../core/command-line.js';
import { imageInRegistry } from '../core/registry.js';
import {
  dockerImageExists,
  dockerPull,
  dockerPush,
  dockerPushArgs,
  dockerTag,
  registryHasImage,
} from '../tools/docker.js';

import { passed, type CurlImageState, type Run } from './run.js';

/**
 * `up --registry`: the server image and the blast's curl image tagged under the registry and
 * pushed there, so nodes that have no `kind load` pull them as they would any image. An image
 * the registry already holds is not pushed again (the server's tag is a hash of its sources).
 */

export interface Pushed {
  /** The server image as the Deployment names it. */
  server: string;
  curl: string;
  curlImage: CurlImageState;
  /** References pushed by this run. */
  pushed: string[];
}

export async function pushImages(run: Run, registry: string, image: string): Promise<Pushed> {
  const server = imageInRegistry(registry, image);
  const curl = imageInRegistry(registry, CURL_IMAGE);
  const pushed: string[] = [];
  if (await registryHasImage(server, run.tools)) {
    passed(run, `${server} already in the registry: not pushing`);
  } else if (await pushOne(run, image, server)) {
    pushed.push(server);
  }
  let curlImage: CurlImageState = 'skipped';
  if (await registryHasImage(curl, run.tools)) {
    passed(run, `${curl} (for blasts) already in the registry: not pushing`);
    curlImage = 'on-nodes';
  } else if (!(await curlLocally(run))) {
    curlImage = 'unavailable';
  } else if (await pushOne(run, CURL_IMAGE, curl)) {
    pushed.push(curl);
    curlImage = 'loaded';
  }
  return { server, curl, curlImage, pushed };
}

/** Tags and pushes one image; false when --dry-run only says so. */
async function pushOne(run: Run, local: string, ref: string): Promise<boolean> {
  const { ctx, opts } = run;
  if (opts.dryRun) {
    ctx.printer.line(`would run: ${formatCommand('docker', ['tag', local, ref])}`);
    ctx.printer.line(`would run: ${formatCommand('docker', dockerPushArgs(ref))}`);
    return false;
  }
  run.stage = `pushing ${ref}`;
  run.leftBehind = 'Nothing in the cluster was changed; the registry may hold part of the image.';
  const progress = ctx.printer.progress(`Pushing ${ref}`);
  try {
    await dockerTag(local, ref, run.tools);
    await dockerPush(ref, run.tools);
  } catch (error) {
    progress.fail(`Pushing ${ref} failed`);
    throw error;
  }
  progress.succeed(`Pushed ${ref}`);
  return true;
}

/** The curl image is on this machine, pulled if needed; false (with a warning) if it cannot be. */
async function curlLocally(run: Run): Promise<boolean> {
  const { ctx, opts } = run;
  if (opts.dryRun || (await dockerImageExists(CURL_IMAGE, run.tools))) return true;
  run.stage = `pulling ${CURL_IMAGE}`;
  const why = await dockerPull(CURL_IMAGE, run.tools);
  if (why === undefined) return true;
  ctx.printer.note(
    `${ctx.printer.color.yellow('!')} ${CURL_IMAGE} (used by \`replica-demo blast\`) could not be pulled (${why}), so it is not in the registry; blasts will fail until you pull it and run \`replica-demo up\` again with the same --registry.`,
  );
  return false;
}
