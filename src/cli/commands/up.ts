import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Context } from '../context.js';
import { quietStdout } from '../output.js';
import {
  EmbeddedClusterError,
  InterruptedError,
  OperationError,
  ReplicaDemoError,
} from '../errors.js';
import type { UpFlags } from '../core/flags.js';
import { imageReference, imageTag } from '../core/image-tag.js';
import { CURL_IMAGE } from '../core/names.js';
import { imageInRegistry } from '../core/registry.js';
import { validateUpOptions } from '../core/validate.js';
import {
  describeTarget,
  loadState,
  resolveTarget,
  simKubeconfigPath,
  type SavedState,
  type Target,
} from '../target.js';
import { verifyDockerDaemon, verifyDockerInstalled } from '../tools/docker.js';
import { kindClusters, verifyKind } from '../tools/kind.js';
import { verifyContext, verifyKubectl } from '../tools/kubectl.js';

import { buildServerImage, ensureCurlImage, loadServerImage } from '../up/images.js';
import { pushImages } from '../up/push.js';
import { applyAndWait, planOnly } from '../up/apply.js';
import { ensureKindCluster } from '../up/cluster.js';
import {
  packageRoot,
  passed as pass,
  type CurlImageState,
  type Run,
  type UpResult,
} from '../up/run.js';

/**
 * `replica-demo up`: from nothing to N ready replicas, and on a second run, nothing at all.
 * Fill in (flags, saved state) -> validate (pure) -> preflight -> image -> apply -> wait -> report.
 */

export type { UpResult };

export async function up(raw: UpFlags, given: Context): Promise<UpResult> {
  const ctx = raw.json ? { ...given, printer: quietStdout(given.printer) } : given;
  const result = await upWith(raw, ctx);
  if (raw.json) given.printer.line(JSON.stringify(upJson(result)));
  return result;
}

/** The `--json` document of `up`: where, what image, what changed, and the pods. */
function upJson(r: UpResult): unknown {
  return {
    target: {
      mode: r.target.mode,
      context: r.target.context,
      namespace: r.target.namespace,
      cluster: r.target.cluster ?? null,
    },
    image: r.image,
    dryRun: r.dryRun,
    unchanged: r.unchanged,
    changed: r.changed.map((c) => `${c.kind}/${c.name}`),
    createdCluster: r.createdCluster,
    built: r.built,
    loadedNodes: r.loadedNodes,
    curlImage: r.curlImage,
    registry: r.registry ?? null,
    pushed: r.pushed,
    ready: r.ready,
    desired: r.desired,
    pods: r.pods.map((p) => ({
      name: p.name,
      replicaId: p.replicaId,
      podIP: p.podIP,
      node: p.node,
      ready: p.ready,
    })),
  };
}

async function upWith(raw: UpFlags, ctx: Context): Promise<UpResult> {
  const opts = validateUpOptions(raw);
  const run: Run = {
    ctx,
    opts,
    tools: { signal: ctx.signal, env: ctx.env },
    stage: 'the preflight checks',
    leftBehind: 'Nothing was changed.',
    startedSim: false,
    tracked: [],
    clusterPlanned: false,
  };
  try {
    const result = await upRun(raw, run);
    for (const untrack of run.tracked) untrack();
    return result;
  } catch (error) {
    if (
      error instanceof InterruptedError ||
      (ctx.signal.aborted && !(error instanceof ReplicaDemoError))
    ) {
      // The wait knows exactly how far the rollout got; every other stage says what it leaves.
      const daemon = run.startedSim
        ? ' The embedded cluster this run started is still running; `replica-demo down --sim --yes` stops it.'
        : '';
      if (error instanceof InterruptedError && run.stage === 'waiting') {
        throw new InterruptedError(`${error.message}${daemon}`, error.hint);
      }
      throw new InterruptedError(`Interrupted during ${run.stage}. ${run.leftBehind}${daemon}`);
    }
    throw error;
  }
}

async function upRun(raw: UpFlags, run: Run): Promise<UpResult> {
  const { ctx, opts } = run;
  const state = await loadState(ctx);
  // With no flag and no saved state the kind cluster is picked from `kind get clusters`,
  // which can only run after kind itself has been checked.
  const pickDefaultCluster =
    !opts.sim && opts.context === undefined && opts.cluster === undefined && state === undefined;
  let target: Target | undefined = pickDefaultCluster
    ? undefined
    : await resolveTarget(raw, ctx, { requireRunningSim: false, requireExplicitConsent: true });

  if (target?.mode === 'sim') return upSim(run, target, state);

  const passed = (text: string) => pass(run, text);
  const mode = target?.mode ?? 'kind';
  const kindSteps = mode === 'kind';
  if (kindSteps || opts.registry !== undefined) {
    await verifyDockerInstalled(run.tools);
    passed('Docker CLI installed');
    await verifyDockerDaemon(run.tools);
    passed('Docker daemon reachable');
  }
  if (kindSteps) {
    await verifyKind(run.tools);
    passed('kind installed');
  }
  await verifyKubectl(run.tools);
  passed('kubectl installed');

  let createdCluster = false;
  if (kindSteps) {
    const clusters = await kindClusters(run.tools);
    target ??= await resolveTarget(raw, ctx, {
      requireRunningSim: false,
      requireExplicitConsent: true,
      listKindClusters: () => Promise.resolve(clusters),
    });
    createdCluster = await ensureKindCluster(run, target, clusters, state);
  }
  if (target === undefined) throw new OperationError('No cluster was chosen.');
  if (!run.clusterPlanned) {
    await verifyContext(target, run.tools);
    passed(`context ${target.context} found`);
  }
  ctx.printer.note(describeTarget(target));

  const image = imageReference(await imageTag(packageRoot(), opts.baseImage));
  const images = await imageSteps(run, target, image);
  const tail = await applyAndWait(run, target, images.deployed, state, createdCluster);
  return {
    ...tail,
    createdCluster,
    built: images.built,
    loadedNodes: images.loadedNodes,
    curlImage: images.curlImage,
    pushed: images.pushed,
    ...(opts.registry !== undefined ? { registry: opts.registry } : {}),
    unchanged:
      tail.unchanged &&
      !images.built &&
      images.loadedNodes.length === 0 &&
      images.pushed.length === 0 &&
      images.curlImage !== 'loaded' &&
      !createdCluster,
  };
}

interface ImageSteps {
  /** The image the Deployment names: the local tag, or its name in --registry. */
  deployed: string;
  built: boolean;
  loadedNodes: string[];
  curlImage: CurlImageState;
  pushed: string[];
}

/**
 * The images where the nodes can use them: built and pushed to --registry; built and loaded
 * with `kind load` on kind; on any other cluster, the user's to provide.
 */
async function imageSteps(run: Run, target: Target, image: string): Promise<ImageSteps> {
  const { ctx, opts } = run;
  const none: ImageSteps = {
    deployed: image,
    built: false,
    loadedNodes: [],
    curlImage: 'skipped',
    pushed: [],
  };
  if (opts.registry !== undefined) {
    const deployed = imageInRegistry(opts.registry, image);
    if (!opts.build) {
      ctx.printer.note(
        `--no-build: not building or pushing images; ${opts.registry} must already hold ${deployed}.`,
      );
      return { ...none, deployed };
    }
    const built = await buildServerImage(run, image);
    const pushed = await pushImages(run, opts.registry, image);
    return { ...none, deployed, built, curlImage: pushed.curlImage, pushed: pushed.pushed };
  }
  if (target.mode !== 'kind') {
    ctx.printer.note(
      `Image steps skipped: context ${target.context} is not a kind cluster, so there is no \`kind load\`; its nodes must be able to pull ${image} and ${CURL_IMAGE} themselves, or give --registry HOST[:PORT]/PATH to push them to a registry the nodes pull from.`,
    );
    return none;
  }
  if (!opts.build) {
    ctx.printer.note(
      `--no-build: not building or loading images; the nodes must already have ${image}.`,
    );
    return none;
  }
  const cluster = target.cluster ?? 'kind';
  const built = await buildServerImage(run, image);
  const loadedNodes = await loadServerImage(run, image, cluster);
  const curlImage = await ensureCurlImage(run, cluster);
  return { ...none, built, loadedNodes, curlImage };
}

async function upSim(run: Run, target: Target, state: SavedState | undefined): Promise<UpResult> {
  const { ctx, opts } = run;
  const passed = (text: string) => pass(run, text);
  ctx.printer.note('Using the embedded cluster (replica-demo sim): a local stand-in for kind.');
  const serverEntry = path.join(packageRoot(), 'dist', 'server', 'main.js');
  if (!existsSync(serverEntry)) {
    throw new EmbeddedClusterError(
      `The embedded cluster runs the locally built server, and ${serverEntry} is missing.`,
      'Run `npm run build` first.',
    );
  }
  passed('server build found (dist/server/main.js)');
  await verifyKubectl(run.tools);
  passed('kubectl installed');

  const control = await import('../sim-control.js');
  const running = control.isSimRunning(ctx.home);
  let kubeconfig = target.kubeconfig ?? simKubeconfigPath(ctx.home);
  if (running) {
    passed('embedded cluster running');
  } else if (opts.dryRun) {
    ctx.printer.line('would start: the embedded cluster (replica-demo sim start)');
  } else {
    run.stage = 'the start of the embedded cluster';
    run.leftBehind =
      'The embedded cluster may be running; `replica-demo down --sim --yes` stops it.';
    const progress = ctx.printer.progress('Starting the embedded cluster');
    try {
      const started = await control.startSim({ home: ctx.home, env: ctx.env });
      kubeconfig = started.kubeconfigPath;
      run.startedSim = started.started;
      if (started.started) {
        run.tracked.push(
          ctx.leftovers.add(
            'the embedded cluster this run started (`replica-demo down --sim --yes` stops it)',
          ),
        );
      }
      progress.succeed(`Started the embedded cluster on 127.0.0.1:${started.port}`);
    } catch (error) {
      progress.fail('The embedded cluster did not start');
      throw error;
    }
  }
  const simTarget: Target = { ...target, kubeconfig };
  ctx.printer.note(
    "Image steps skipped: the embedded cluster has no container runtime; it runs the server from dist/server/main.js for every multi-replica-app image and the machine's curl for the curl image.",
  );
  const image = imageReference(await imageTag(packageRoot()));
  if (opts.dryRun && !running) {
    // Nothing to compare against: show the whole plan.
    return {
      ...planOnly(run, simTarget, image),
      createdCluster: false,
      built: false,
      loadedNodes: [],
      curlImage: 'skipped',
      pushed: [],
    };
  }
  const tail = await applyAndWait(run, simTarget, image, state, false);
  return {
    ...tail,
    createdCluster: false,
    built: false,
    loadedNodes: [],
    curlImage: 'skipped',
    pushed: [],
    unchanged: tail.unchanged && running,
  };
}
