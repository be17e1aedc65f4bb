import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Context } from '../context.js';
import {
  EmbeddedClusterError,
  ExitCode,
  InterruptedError,
  NotManagedError,
  OperationError,
  PrerequisiteError,
  ReplicaDemoError,
} from '../errors.js';
import type { UpFlags } from '../core/flags.js';
import { imageReference, imageTag } from '../core/image-tag.js';
import { loadManifests, manifestsDir, renderManifests, toYamlStream } from '../core/manifests.js';
import {
  APP_LABEL,
  CURL_IMAGE,
  DEPLOYMENT,
  FIELD_MANAGER,
  KIND_CLUSTER_CONFIG,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  POD_DISRUPTION_BUDGET,
  SERVICE,
} from '../core/names.js';
import {
  formatCommand,
  objectsToChange,
  rolloutProgress,
  type DeploymentLike,
  type ObjectKey,
} from '../core/plan-up.js';
import { validateUpOptions, type UpOptions } from '../core/validate.js';
import { podRows, renderPodTable, type PodRow } from '../render/pods.js';
import {
  describeTarget,
  loadState,
  resolveTarget,
  saveState,
  simKubeconfigPath,
  type SavedState,
  type Target,
} from '../target.js';
import {
  dockerBuild,
  dockerBuildArgs,
  dockerImageExists,
  dockerPull,
  nodeImages,
  normalizeImageRef,
  verifyDockerDaemon,
  verifyDockerInstalled,
} from '../tools/docker.js';
import {
  kindClusters,
  kindCreateArgs,
  kindCreateCluster,
  kindLoad,
  kindLoadArgs,
  kindNodes,
  verifyKind,
} from '../tools/kind.js';
import {
  kubectlApply,
  kubectlApplyArgs,
  kubectlGetObjects,
  kubectlListPods,
  verifyContext,
  verifyKubectl,
  type ObjectRef,
} from '../tools/kubectl.js';

/**
 * `replica-demo up`: from nothing to N ready replicas, and on a second run, nothing at all.
 * Fill in (flags, saved state) -> validate (pure) -> preflight -> image -> apply -> wait -> report.
 */

export type CurlImageState = 'on-nodes' | 'loaded' | 'unavailable' | 'skipped';

export interface UpResult {
  target: Target;
  image: string;
  dryRun: boolean;
  createdCluster: boolean;
  built: boolean;
  /** Nodes the server image was loaded into this run. */
  loadedNodes: string[];
  curlImage: CurlImageState;
  /** Objects that were missing or differed and were applied; empty on a re-run. */
  changed: ObjectKey[];
  ready: number;
  desired: number;
  pods: PodRow[];
  /** True when this run changed nothing anywhere. */
  unchanged: boolean;
}

/** Objects the manifests hold, as kubectl names them, for the read-only comparison. */
const OBJECT_REFS: ObjectRef[] = [
  { resource: 'deployment.apps', name: DEPLOYMENT },
  { resource: 'service', name: SERVICE },
  { resource: 'poddisruptionbudget.policy', name: POD_DISRUPTION_BUDGET },
];

export function packageRoot(): string {
  return path.resolve(manifestsDir(), '..');
}

interface Run {
  ctx: Context;
  opts: UpOptions;
  tools: { signal: AbortSignal; env: NodeJS.ProcessEnv };
  /** What is under way, for the Ctrl-C message. */
  stage: string;
  /** What was left behind if the run stops now. */
  leftBehind: string;
  /** --dry-run with a cluster that --create-cluster would make: nothing to read from it yet. */
  clusterPlanned: boolean;
}

export async function up(raw: UpFlags, ctx: Context): Promise<UpResult> {
  const opts = validateUpOptions(raw);
  const run: Run = {
    ctx,
    opts,
    tools: { signal: ctx.signal, env: ctx.env },
    stage: 'the preflight checks',
    leftBehind: 'Nothing was changed.',
    clusterPlanned: false,
  };
  try {
    return await upRun(raw, run);
  } catch (error) {
    if (
      error instanceof InterruptedError ||
      (ctx.signal.aborted && !(error instanceof ReplicaDemoError))
    ) {
      // The wait knows exactly how far the rollout got; every other stage says what it leaves.
      if (error instanceof InterruptedError && run.stage === 'waiting') throw error;
      throw new InterruptedError(`Interrupted during ${run.stage}. ${run.leftBehind}`);
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

  const passed = (text: string) => ctx.printer.note(`${ctx.printer.color.green('✔')} ${text}`);
  const mode = target?.mode ?? 'kind';
  const imageSteps = mode === 'kind';
  if (imageSteps) {
    await verifyDockerInstalled(run.tools);
    passed('Docker CLI installed');
    await verifyDockerDaemon(run.tools);
    passed('Docker daemon reachable');
    await verifyKind(run.tools);
    passed('kind installed');
  }
  await verifyKubectl(run.tools);
  passed('kubectl installed');

  let createdCluster = false;
  if (imageSteps) {
    const clusters = await kindClusters(run.tools);
    if (target === undefined) {
      target = await resolveTarget(raw, ctx, {
        requireRunningSim: false,
        requireExplicitConsent: true,
        listKindClusters: () => Promise.resolve(clusters),
      });
    }
    const cluster = target.cluster ?? 'kind';
    if (clusters.includes(cluster)) {
      passed(`kind cluster "${cluster}" exists`);
    } else if (opts.createCluster) {
      const config = path.join(packageRoot(), KIND_CLUSTER_CONFIG);
      if (opts.dryRun) {
        ctx.printer.line(`would run: ${formatCommand('kind', kindCreateArgs(cluster, config))}`);
        run.clusterPlanned = true;
      } else {
        run.stage = `the creation of kind cluster "${cluster}"`;
        run.leftBehind = `The cluster may be half made: \`kind delete cluster --name ${cluster}\` removes it.`;
        const progress = ctx.printer.progress(
          `Creating kind cluster "${cluster}" (a minute or two)`,
        );
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
        createdCluster = true;
        await saveState(ctx, stateFor(target, state, { createdCluster: true }));
      }
    } else {
      throw new PrerequisiteError(
        `The kind cluster "${cluster}" does not exist.`,
        ExitCode.ClusterMissing,
        `Create it with \`replica-demo up --cluster ${cluster} --create-cluster\` (or \`kind create cluster --name ${cluster}\`), or use \`replica-demo up --sim\`.`,
      );
    }
  }
  if (target === undefined) throw new OperationError('No cluster was chosen.');
  if (!run.clusterPlanned) {
    await verifyContext(target, run.tools);
    passed(`context ${target.context} found`);
  }
  ctx.printer.note(describeTarget(target));

  const image = imageReference(await imageTag(packageRoot(), opts.baseImage));
  let built = false;
  let loadedNodes: string[] = [];
  let curlImage: CurlImageState = 'skipped';
  if (!imageSteps) {
    ctx.printer.note(
      `Image steps skipped: context ${target.context} is not a kind cluster, so there is no \`kind load\`; its nodes must be able to pull ${image} and ${CURL_IMAGE} themselves.`,
    );
  } else if (!opts.build) {
    ctx.printer.note(
      `--no-build: not building or loading images; the nodes must already have ${image}.`,
    );
  } else {
    const cluster = target.cluster ?? 'kind';
    ({ built, loadedNodes } = await ensureServerImage(run, image, cluster));
    curlImage = await ensureCurlImage(run, cluster);
  }

  const tail = await applyAndWait(run, target, image, state, createdCluster);
  return {
    ...tail,
    createdCluster,
    built,
    loadedNodes,
    curlImage,
    unchanged:
      tail.unchanged &&
      !built &&
      loadedNodes.length === 0 &&
      curlImage !== 'loaded' &&
      !createdCluster,
  };
}

async function ensureServerImage(
  run: Run,
  image: string,
  cluster: string,
): Promise<{ built: boolean; loadedNodes: string[] }> {
  const { ctx, opts } = run;
  const root = packageRoot();
  let built = false;
  if (await dockerImageExists(image, run.tools)) {
    ctx.printer.note(
      `${ctx.printer.color.green('✔')} image ${image} already built (same sources, same tag): not rebuilding`,
    );
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
  const missing = await nodesMissing(run, image, cluster);
  if (missing.nodes.length === 0) {
    ctx.printer.note(
      `${ctx.printer.color.green('✔')} ${image} already on every node of "${cluster}": not loading`,
    );
    return { built, loadedNodes: [] };
  }
  const args = kindLoadArgs(image, cluster, missing.partial ? missing.nodes : undefined);
  if (opts.dryRun) {
    ctx.printer.line(`would run: ${formatCommand('kind', args)}`);
    return { built, loadedNodes: [] };
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
  return { built, loadedNodes: missing.nodes };
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
async function ensureCurlImage(run: Run, cluster: string): Promise<CurlImageState> {
  const { ctx, opts } = run;
  const missing = await nodesMissing(run, CURL_IMAGE, cluster);
  if (missing.nodes.length === 0) {
    ctx.printer.note(
      `${ctx.printer.color.green('✔')} ${CURL_IMAGE} (for blasts) already on every node`,
    );
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
  ctx.printer.note(
    `${ctx.printer.color.green('✔')} loaded ${CURL_IMAGE} (for blasts) into ${missing.nodes.length} node(s)`,
  );
  return 'loaded';
}

async function upSim(run: Run, target: Target, state: SavedState | undefined): Promise<UpResult> {
  const { ctx, opts } = run;
  const passed = (text: string) => ctx.printer.note(`${ctx.printer.color.green('✔')} ${text}`);
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
    };
  }
  const tail = await applyAndWait(run, simTarget, image, state, false);
  return {
    ...tail,
    createdCluster: false,
    built: false,
    loadedNodes: [],
    curlImage: 'skipped',
    unchanged: tail.unchanged && running,
  };
}

type Tail = Pick<
  UpResult,
  'target' | 'image' | 'dryRun' | 'changed' | 'ready' | 'desired' | 'pods' | 'unchanged'
>;

function renderFor(run: Run, target: Target, image: string) {
  const rendered = renderManifests(loadManifests(), {
    image,
    replicas: run.opts.replicas,
    namespace: target.namespace,
  });
  return { rendered, yaml: toYamlStream(rendered) };
}

function planOnly(run: Run, target: Target, image: string): Tail {
  const { opts } = run;
  const { yaml } = renderFor(run, target, image);
  printApplyPlan(run, target, yaml);
  run.ctx.printer.note(
    'Dry run: only read-only checks ran (the server build, kubectl); the embedded cluster was not started and nothing was changed.',
  );
  return {
    target,
    image,
    dryRun: true,
    changed: [],
    ready: 0,
    desired: opts.replicas,
    pods: [],
    unchanged: false,
  };
}

function printApplyPlan(run: Run, target: Target, yaml: string): void {
  const { ctx, opts } = run;
  const ns = target.namespace;
  ctx.printer.line(
    `would run: ${formatCommand('kubectl', kubectlApplyArgs(target, FIELD_MANAGER))} <<'EOF'`,
  );
  ctx.printer.line(yaml.trimEnd());
  ctx.printer.line('EOF');
  ctx.printer.line(
    `would call: GET+WATCH /apis/apps/v1/namespaces/${ns}/deployments?fieldSelector=metadata.name=${DEPLOYMENT}, /api/v1/namespaces/${ns}/pods?labelSelector=app=web-server, /api/v1/namespaces/${ns}/events (context ${target.context}) until ${opts.replicas}/${opts.replicas} ready, at most ${opts.timeoutSeconds} s`,
  );
  ctx.printer.line(
    `would call: GET /api/v1/namespaces/${ns}/pods?labelSelector=app=web-server (the pod table)`,
  );
  ctx.printer.line(
    `would write: ${path.join(ctx.home, 'state.json')} (context ${target.context}, namespace ${ns})`,
  );
}

function stateFor(
  target: Target,
  previous: SavedState | undefined,
  extra: Partial<SavedState>,
): SavedState {
  const sameCluster = previous?.mode === target.mode && previous.context === target.context;
  return {
    mode: target.mode,
    context: target.context,
    namespace: target.namespace,
    ...(target.kubeconfig !== undefined ? { kubeconfig: target.kubeconfig } : {}),
    ...(target.cluster !== undefined ? { cluster: target.cluster } : {}),
    ...(sameCluster && previous.createdCluster ? { createdCluster: true } : {}),
    ...(target.mode === 'context' ? { confirmedContext: target.context } : {}),
    ...extra,
  };
}

/**
 * A namespace that exists without our label belongs to someone else: applying would stamp
 * our label and the restricted Pod Security level on it, and `down` would then delete it
 * with everything in it.
 */
function refuseForeignNamespace(live: readonly Record<string, unknown>[], namespace: string): void {
  const ns = live.find((o) => o.kind === 'Namespace') as
    { metadata?: { labels?: Record<string, string> } } | undefined;
  if (ns === undefined || ns.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE) return;
  throw new NotManagedError(
    `Namespace ${namespace} already exists and was not created by replica-demo (no ${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE} label); up leaves it alone.`,
    "Pick a new namespace with `-n NAME`, or leave out -n for the lesson's own.",
  );
}

async function applyAndWait(
  run: Run,
  target: Target,
  image: string,
  state: SavedState | undefined,
  createdCluster: boolean,
): Promise<Tail> {
  const { ctx, opts } = run;
  const { rendered, yaml } = renderFor(run, target, image);

  // Read-only: what the cluster holds now, so a re-run can skip the apply entirely.
  // Both read-only and independent, so side by side.
  const [live, livePods] = run.clusterPlanned
    ? [[], []]
    : await Promise.all([
        kubectlGetObjects(
          [{ resource: 'namespace', name: target.namespace }, ...OBJECT_REFS],
          target.namespace,
          target,
          run.tools,
        ),
        opts.dryRun
          ? Promise.resolve([])
          : kubectlListPods(APP_LABEL, target.namespace, target, run.tools),
      ]);
  refuseForeignNamespace(live, target.namespace);
  const changed = objectsToChange(rendered, live);
  let clientModules: ReturnType<typeof loadClientModules> | undefined;
  if (opts.dryRun) {
    if (changed.length === 0) {
      ctx.printer.line(
        `would apply nothing: the cluster already holds these manifests (${image}, ${opts.replicas} replicas).`,
      );
    } else {
      ctx.printer.line(`would change: ${changed.map((c) => `${c.kind}/${c.name}`).join(', ')}`);
      printApplyPlan(run, target, yaml);
    }
    ctx.printer.note(
      'Dry run: only read-only checks ran (tool versions, cluster and image lists, `kubectl get`); nothing was changed.',
    );
    return {
      target,
      image,
      dryRun: true,
      changed,
      ready: 0,
      desired: opts.replicas,
      pods: [],
      unchanged: changed.length === 0,
    };
  }

  if (changed.length === 0) {
    ctx.printer.note(
      `${ctx.printer.color.green('✔')} manifests unchanged on the cluster (${image}, ${opts.replicas} replicas): not applying`,
    );
  } else {
    // The API client takes a while to load: let that overlap the apply.
    clientModules = loadClientModules();
    clientModules.catch(() => undefined);
    run.stage = 'the apply';
    run.leftBehind =
      'The apply may be partly done: run `replica-demo up` again to finish, or `replica-demo down` to remove it.';
    const lines = await kubectlApply(yaml, target, FIELD_MANAGER, run.tools);
    for (const line of lines) ctx.printer.note(`  ${line}`);
    ctx.printer.note(
      `${ctx.printer.color.green('✔')} applied ${changed.map((c) => `${c.kind}/${c.name}`).join(', ')}`,
    );
  }
  // From here on the namespace is ours: `down`, `blast` and `kill-pod` must find it.
  await saveState(
    ctx,
    stateFor(target, state, { image, ...(createdCluster ? { createdCluster: true } : {}) }),
  );

  run.stage = 'waiting';
  const liveDeployment = live.find((o) => o.kind === 'Deployment') as DeploymentLike | undefined;
  let pods: PodRow[];
  if (changed.length === 0 && rolloutProgress(liveDeployment, opts.replicas).done) {
    // Nothing applied and the Deployment already reports every replica ready: the pods
    // kubectl listed are the answer, and the API client (slow to load) is not needed.
    ctx.printer.note(
      `${ctx.printer.color.green('✔')} ${opts.replicas}/${opts.replicas} replicas ready`,
    );
    pods = podRows(livePods, ctx.now());
  } else {
    pods = await watchUntilReady(run, target, clientModules ?? loadClientModules());
  }
  ctx.printer.line(renderPodTable(pods, { boxed: ctx.printer.interactive }));
  if (changed.length === 0) {
    ctx.printer.note('Nothing changed: the cluster already had this deployment.');
  }
  ctx.printer.note(
    `Next: \`replica-demo blast\` sends requests through the Service and shows which replica answered.`,
  );
  return {
    target,
    image,
    dryRun: false,
    changed,
    ready: pods.filter((p) => isRowReady(p)).length,
    desired: opts.replicas,
    pods,
    unchanged: changed.length === 0,
  };
}

function isRowReady(row: PodRow): boolean {
  const [ready, all] = row.ready.split('/');
  return ready === all;
}

function loadClientModules() {
  return Promise.all([import('../kube/api.js'), import('../kube/rollout.js')]);
}

async function watchUntilReady(
  run: Run,
  target: Target,
  modules: ReturnType<typeof loadClientModules>,
): Promise<PodRow[]> {
  const { ctx, opts } = run;
  const [{ connect }, { waitForRollout }] = await modules;
  const api = connect(target);
  const progress = ctx.printer.progress(`0/${opts.replicas} ready`);
  let result;
  try {
    result = await waitForRollout(api, {
      desired: opts.replicas,
      timeoutMs: opts.timeoutSeconds * 1000,
      signal: ctx.signal,
      onProgress: (text) => progress.update(text),
      diagnosis:
        target.mode === 'sim'
          ? { embedded: true }
          : target.cluster !== undefined
            ? { cluster: target.cluster }
            : {},
    });
  } catch (error) {
    progress.stop();
    throw error;
  }
  progress.succeed(
    `${result.ready}/${result.desired} replicas ready (${(result.elapsedMs / 1000).toFixed(1)} s)`,
  );
  return podRows(await api.listAppPods(), ctx.now());
}
