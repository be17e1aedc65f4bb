import type { Context } from '../context.js';
import { InterruptedError, NotManagedError } from '../errors.js';
import { DEFAULTS, type BlastFlags, type TargetFlags, type TourFlags } from '../core/flags.js';
import { NAMESPACE } from '../core/names.js';
import { reachableKindCluster, resolveTarget } from '../target.js';
import { kubectlGetObjects } from '../tools/kubectl.js';
import type { BlastResult } from '../render/blast.js';
import { blast } from './blast.js';
import { down } from './down.js';
import { killPod, type KillPodResult } from './kill-pod.js';
import { up } from './up.js';

export interface TourResult {
  mode: 'kind' | 'sim';
  cluster?: string;
  blasts: BlastResult[];
  kill: KillPodResult;
  keptRunning: boolean;
}

/** `replica-demo tour`: the whole lesson, narrated, each step the real command. */
export async function tour(opts: TourFlags, ctx: Context): Promise<TourResult> {
  const say = (text = '') => ctx.printer.line(text);
  // At a terminal the tour waits between steps, so each result can be read before the next.
  let stepping = opts.step ?? ctx.interactive;
  const step = async (n: number, title: string, why: string[]) => {
    if (stepping && n > 1) {
      const answer = await ctx.ask(
        `Press Enter for step ${n} of 7 (${title}), or Ctrl-C to stop. `,
      );
      if (ctx.signal.aborted) throw new InterruptedError();
      // Input ended (nothing more will be typed): the rest runs without waiting.
      if (answer === undefined) stepping = false;
    }
    say();
    say(ctx.printer.color.bold(`Step ${n} of 7: ${title}`));
    for (const line of why) say(`  ${line}`);
    say();
  };

  const cluster = opts.sim === true ? undefined : await reachableKindCluster(ctx);
  const flags: TargetFlags = cluster !== undefined ? { cluster } : { sim: true };
  const mode = cluster !== undefined ? 'kind' : 'sim';
  say(
    ctx.printer.color.bold(
      'replica-demo tour: how a Kubernetes Service spreads traffic over replicas',
    ),
  );
  say(
    cluster !== undefined
      ? `Using the kind cluster "${cluster}" (context kind-${cluster}).`
      : opts.sim === true
        ? 'Using the embedded cluster (replica-demo sim), as asked with --sim.'
        : 'No kind cluster is reachable here, so the tour uses the embedded cluster (replica-demo sim): a local stand-in that answers the same API calls, runs the same server and the same curl Job.',
  );

  // Whether the tour may stop the embedded cluster: only when it was not running before.
  const simWasRunning =
    mode === 'sim' && (await import('../sim-control.js')).isSimRunning(ctx.home);
  const keep = opts.keep === true;
  const leftover = describeLeftover(flags, ctx, simWasRunning);

  // A lesson the user put up before the tour is theirs: the tour uses it and leaves it.
  const hadLesson = await lessonExists(flags, ctx);
  const untrack = hadLesson
    ? () => true
    : ctx.leftovers.add(`${leftover.what} (\`${leftover.remove}\` removes it)`);
  const last = lastStep(hadLesson, keep, simWasRunning);
  let blasts: BlastResult[];
  let kill: KillPodResult;
  try {
    ({ blasts, kill } = await lessonSteps(flags, opts, ctx, step));
    // Inside: Ctrl-C at step 7's prompt cleans up like Ctrl-C anywhere else.
    await step(7, last.title, last.why);
  } catch (error) {
    if (hadLesson) {
      ctx.printer.note(
        `Left as it was: namespace ${NAMESPACE} was there before the tour, so the tour does not remove it.`,
      );
    } else if (keep) {
      ctx.printer.note(
        `Left running, as asked with --keep: ${leftover.what}; remove it with \`${leftover.remove}\`.`,
      );
    } else if (!(error instanceof NotManagedError)) {
      // A namespace the tool did not create is never touched; anything else the tour made goes.
      await cleanUpAfterFailure(ctx, leftover, (c) => removeTourObjects(flags, c, simWasRunning));
      untrack();
    }
    throw error;
  }
  if (!hadLesson && !keep) {
    await removeTourObjects(flags, ctx, simWasRunning);
    untrack();
  }
  say();
  say(
    'That is the lesson: kube-proxy picks a pod per connection, port-forward is one pod, keep-alive sticks,',
  );
  say('and a ReplicaSet replaces a lost pod within seconds.');
  return { mode, ...(cluster !== undefined ? { cluster } : {}), blasts, kill, keptRunning: keep };
}

/** Step 7: what the tour does with the lesson it ran. */
function lastStep(
  hadLesson: boolean,
  keep: boolean,
  simWasRunning: boolean,
): { title: string; why: string[] } {
  if (hadLesson) {
    return {
      title: 'leave it as it was',
      why: [
        `Namespace ${NAMESPACE} was there before the tour (from your own \`replica-demo up\`), so it stays; \`replica-demo down\` removes it.`,
      ],
    };
  }
  if (keep) {
    return {
      title: 'leave it running',
      why: [
        'Kept, as asked with --keep. Try `replica-demo blast --count 2000`, and remove it with `replica-demo down`.',
      ],
    };
  }
  return {
    title: 'clean up',
    why: [
      simWasRunning
        ? 'Removes what step 1 created; the embedded cluster was running before the tour, so it stays.'
        : 'Removes what step 1 created, and nothing else.',
    ],
  };
}

/** Whether the lesson's namespace is on the cluster already (read-only; false when unsure). */
async function lessonExists(flags: TargetFlags, ctx: Context): Promise<boolean> {
  const target = await resolveTarget(flags, ctx, { requireRunningSim: false });
  if (target.mode === 'sim' && !(await import('../sim-control.js')).isSimRunning(ctx.home)) {
    return false;
  }
  const tools = { signal: ctx.signal, env: ctx.env };
  const found = await kubectlGetObjects(
    [{ resource: 'namespace', name: target.namespace }],
    target.namespace,
    target,
    tools,
  ).catch(() => []);
  return found.length > 0;
}

/** Steps 1 to 6, each the real command with the lesson's flags. */
async function lessonSteps(
  flags: TargetFlags,
  opts: TourFlags,
  ctx: Context,
  step: (n: number, title: string, why: string[]) => Promise<void>,
): Promise<{ blasts: BlastResult[]; kill: KillPodResult }> {
  const blastFlags = (count: number, more: Partial<BlastFlags> = {}): BlastFlags => ({
    ...flags,
    count,
    via: 'service',
    parallel: DEFAULTS.parallel,
    timeout: DEFAULTS.blastTimeout,
    ...more,
  });
  const blasts: BlastResult[] = [];
  await step(1, 'deploy five replicas behind one Service', [
    'Builds the server image (or uses the embedded one), deploys web-server-deployment with 5',
    'replicas and web-server-service in front, and waits until all 5 are ready.',
  ]);
  await up(
    {
      ...flags,
      replicas: DEFAULTS.replicas,
      timeout: DEFAULTS.upTimeout,
      build: true,
      ...(opts.baseImage !== undefined ? { baseImage: opts.baseImage } : {}),
    },
    ctx,
  );

  await step(2, 'twenty requests, through the Service and through port-forward', [
    'One Job runs one curl that opens a new connection per request. The same twenty requests',
    'then go through a port-forward, the way `kubectl port-forward svc/...` works.',
  ]);
  blasts.push(await blast(blastFlags(20, { via: 'both' }), ctx));

  await step(3, 'two hundred requests through the Service', [
    'Twenty requests over five pods is a small sample; here is what ten times more looks like.',
  ]);
  blasts.push(await blast(blastFlags(200), ctx));

  await step(4, 'the same requests over one kept-alive connection', [
    'Browsers and HTTP libraries reuse connections. Watch where the requests go when curl does too.',
  ]);
  blasts.push(await blast(blastFlags(20, { keepAlive: true }), ctx));

  await step(5, 'kill a replica', [
    'Deletes one ready pod and follows the ReplicaSet as it creates a replacement.',
  ]);
  const kill = await killPod({ ...flags, timeout: DEFAULTS.killTimeout }, ctx);

  await step(6, 'blast again after recovery', [
    'Five pods again, one of them new: it gets its share at once.',
  ]);
  blasts.push(await blast(blastFlags(20), ctx));
  return { blasts, kill };
}

interface Leftover {
  /** What a stopped tour leaves behind, in words. */
  what: string;
  /** The exact command that removes it. */
  remove: string;
}

function describeLeftover(flags: TargetFlags, ctx: Context, simWasRunning: boolean): Leftover {
  if (flags.sim !== true) {
    const cluster = flags.cluster ?? 'kind';
    return {
      what: `namespace ${NAMESPACE} (context kind-${cluster})`,
      remove: `replica-demo down --cluster ${cluster} --yes`,
    };
  }
  if (!simWasRunning) {
    return {
      what: `namespace ${NAMESPACE} and the embedded cluster`,
      remove: 'replica-demo down --sim --yes',
    };
  }
  return {
    what: `namespace ${NAMESPACE} on the embedded cluster`,
    remove: 'replica-demo down --sim --keep-cluster --yes',
  };
}

/**
 * Undoes step 1. An embedded cluster that ran before the tour keeps running (only the
 * namespace goes); otherwise `down` removes the namespace and the cluster the tour started.
 */
async function removeTourObjects(
  flags: TargetFlags,
  ctx: Context,
  simWasRunning: boolean,
): Promise<void> {
  // A cluster the user had running before the tour stays running after it.
  const keepCluster = flags.sim === true && simWasRunning;
  await down({ ...flags, yes: true, timeout: DEFAULTS.downTimeout, keepCluster }, ctx);
}

/**
 * After a failed or interrupted step: removes what the tour made, and when that fails too,
 * says in one line what is left and how to remove it. The first Ctrl-C has already aborted
 * ctx.signal, so the cleanup gets its own bounded signal (a second Ctrl-C still exits at once).
 */
async function cleanUpAfterFailure(
  ctx: Context,
  leftover: Leftover,
  remove: (ctx: Context) => Promise<void>,
): Promise<void> {
  const cleanupCtx: Context = ctx.signal.aborted
    ? { ...ctx, signal: AbortSignal.timeout(150_000) }
    : ctx;
  ctx.printer.note(`The tour stopped early; removing what it made: ${leftover.what}.`);
  try {
    await remove(cleanupCtx);
    ctx.printer.note(`Cleaned up: ${leftover.what} removed.`);
  } catch (cleanupError) {
    const why = cleanupError instanceof Error ? cleanupError.message : String(cleanupError);
    ctx.printer.note(
      `Left running: ${leftover.what} (cleanup failed: ${why}); remove it with \`${leftover.remove}\`.`,
    );
  }
}
