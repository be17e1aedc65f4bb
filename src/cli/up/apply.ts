import path from 'node:path';
import { NotManagedError } from '../errors.js';
import { loadManifests, renderManifests, toYamlStream } from '../core/manifests.js';
import {
  APP_LABEL,
  DEPLOYMENT,
  FIELD_MANAGER,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  POD_DISRUPTION_BUDGET,
  SERVICE,
} from '../core/names.js';
import { objectsToChange, type ObjectKey } from '../core/apply-diff.js';
import { formatCommand } from '../core/command-line.js';
import { rolloutProgress, type DeploymentLike } from '../core/rollout.js';
import { podRows, renderPodTable, type PodRow } from '../render/pods.js';
import { saveState, type SavedState, type Target } from '../target.js';
import {
  kubectlApply,
  kubectlApplyArgs,
  kubectlGetObjects,
  kubectlListPods,
  type ObjectRef,
} from '../tools/kubectl.js';

import { passed, type Run, type UpResult } from './run.js';

/** The cluster half of `up`: compare, apply, remember, wait until ready, show the pods. */

/** Objects the manifests hold, as kubectl names them, for the read-only comparison. */
const OBJECT_REFS: ObjectRef[] = [
  { resource: 'deployment.apps', name: DEPLOYMENT },
  { resource: 'service', name: SERVICE },
  { resource: 'poddisruptionbudget.policy', name: POD_DISRUPTION_BUDGET },
];

export type Tail = Pick<
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

export function planOnly(run: Run, target: Target, image: string): Tail {
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

export function stateFor(
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

async function apply(run: Run, target: Target, yaml: string, changed: ObjectKey[]): Promise<void> {
  const { ctx } = run;
  run.stage = 'the apply';
  run.leftBehind =
    'The apply may be partly done: run `replica-demo up` again to finish, or `replica-demo down` to remove it.';
  run.tracked.push(
    ctx.leftovers.add(
      `the lesson's objects in namespace ${target.namespace}, applied (\`replica-demo down\` removes them)`,
    ),
  );
  const lines = await kubectlApply(yaml, target, FIELD_MANAGER, run.tools);
  for (const line of lines) ctx.printer.note(`  ${line}`);
  passed(run, `applied ${changed.map((c) => `${c.kind}/${c.name}`).join(', ')}`);
}

export async function applyAndWait(
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
    passed(
      run,
      `manifests unchanged on the cluster (${image}, ${opts.replicas} replicas): not applying`,
    );
  } else {
    // The API client takes a while to load: let that overlap the apply.
    clientModules = loadClientModules();
    clientModules.catch(() => undefined);
    await apply(run, target, yaml, changed);
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
    passed(run, `${opts.replicas}/${opts.replicas} replicas ready`);
    pods = podRows(livePods, ctx.now());
  } else {
    pods = await watchUntilReady(run, target, clientModules ?? loadClientModules());
  }
  ctx.printer.line(
    renderPodTable(pods, { boxed: ctx.printer.interactive, width: ctx.printer.width }),
  );
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
