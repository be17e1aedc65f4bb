import type { Context } from '../context.js';
import type { RawOptions } from '../program.js';
import { isKindInstalled, kindClusters } from '../tools/kind.js';
import { isDockerDaemonRunning } from '../tools/docker.js';
import type { BlastResult } from '../render/blast.js';
import type { KillPodResult } from './kill-pod.js';

type Command = (opts: RawOptions, ctx: Context) => Promise<unknown>;

export interface TourResult {
  mode: 'kind' | 'sim';
  cluster?: string;
  blasts: BlastResult[];
  kill: KillPodResult;
  keptRunning: boolean;
}

/**
 * A kind cluster counts as reachable when kind and a running Docker daemon are there and a
 * cluster exists; anything less and the tour uses the embedded cluster rather than failing.
 */
async function reachableKindCluster(ctx: Context): Promise<string | undefined> {
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

/** Loads a command module by a variable path, so the tour does not fix the load order of its steps. */
async function command(module: string, name: string): Promise<Command> {
  const loaded = (await import(module)) as Record<string, Command>;
  const fn = loaded[name];
  if (typeof fn !== 'function') throw new Error(`${module} has no ${name}`);
  return fn;
}

/** `replica-demo tour`: the whole lesson, narrated, each step the real command. */
export async function tour(opts: RawOptions, ctx: Context): Promise<TourResult> {
  const say = (text = '') => ctx.printer.line(text);
  const step = (n: number, title: string, why: string[]) => {
    say();
    say(ctx.printer.color.bold(`Step ${n} of 7: ${title}`));
    for (const line of why) say(`  ${line}`);
    say();
  };

  const cluster = opts.sim === true ? undefined : await reachableKindCluster(ctx);
  const flags: RawOptions = cluster !== undefined ? { cluster } : { sim: true };
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

  const up = await command('./up.js', 'up');
  const blast = (await command('./blast.js', 'blast')) as (
    o: RawOptions,
    c: Context,
  ) => Promise<BlastResult>;
  const killPod = (await command('./kill-pod.js', 'killPod')) as (
    o: RawOptions,
    c: Context,
  ) => Promise<KillPodResult>;
  const down = await command('./down.js', 'down');

  step(1, 'deploy five replicas behind one Service', [
    'Builds the server image (or uses the embedded one), deploys web-server-deployment with 5',
    'replicas and web-server-service in front, and waits until all 5 are ready.',
  ]);
  await up({ ...flags, replicas: '5', timeout: '180', build: true }, ctx);

  const blasts: BlastResult[] = [];
  step(2, 'twenty requests, through the Service and through port-forward', [
    'One Job runs one curl that opens a new connection per request. The same twenty requests',
    'then go through a port-forward, the way `kubectl port-forward svc/...` works.',
  ]);
  blasts.push(
    await blast({ ...flags, count: '20', via: 'both', parallel: '1', timeout: '120' }, ctx),
  );

  step(3, 'two hundred requests through the Service', [
    'Twenty requests over five pods is a small sample; here is what ten times more looks like.',
  ]);
  blasts.push(
    await blast({ ...flags, count: '200', via: 'service', parallel: '1', timeout: '120' }, ctx),
  );

  step(4, 'the same requests over one kept-alive connection', [
    'Browsers and HTTP libraries reuse connections. Watch where the requests go when curl does too.',
  ]);
  blasts.push(
    await blast(
      { ...flags, count: '20', via: 'service', parallel: '1', keepAlive: true, timeout: '120' },
      ctx,
    ),
  );

  step(5, 'kill a replica', [
    'Deletes one ready pod and follows the ReplicaSet as it creates a replacement.',
  ]);
  const kill = await killPod({ ...flags, timeout: '120' }, ctx);

  step(6, 'blast again after recovery', [
    'Five pods again, one of them new: it gets its share at once.',
  ]);
  blasts.push(
    await blast({ ...flags, count: '20', via: 'service', parallel: '1', timeout: '120' }, ctx),
  );

  const keep = opts.keep === true;
  if (keep) {
    step(7, 'leave it running', [
      'Kept, as asked with --keep. Try `replica-demo blast --count 2000`, and remove it with `replica-demo down`.',
    ]);
  } else {
    step(7, 'clean up', ['Removes what step 1 created, and nothing else.']);
    await down({ ...flags, yes: true, timeout: '120' }, ctx);
  }
  say();
  say(
    'That is the lesson: kube-proxy picks a pod per connection, port-forward is one pod, keep-alive sticks,',
  );
  say('and a ReplicaSet replaces a lost pod within seconds.');
  return { mode, ...(cluster !== undefined ? { cluster } : {}), blasts, kill, keptRunning: keep };
}
