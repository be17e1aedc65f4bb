import type * as k8s from '@kubernetes/client-node';
import type { Context } from '../context.js';
import { ExitCode, StatusExit } from '../errors.js';
import { assignColours } from '../core/colours.js';
import { replicaId } from '../core/curl-log.js';
import type { LogsFlags } from '../core/flags.js';
import { APP_LABEL, CONTAINER_NAME } from '../core/names.js';
import { connect, type KubeApi } from '../kube/api.js';
import { waitUntil } from '../kube/informer.js';
import { rememberColours, rememberedColours } from '../pod-colours.js';
import { podPainter } from '../render/colours.js';
import { noCluster, resolveTarget } from '../target.js';

/**
 * `replica-demo logs [-f] [--since 5m]`: every replica's log in one stream, each line led by
 * its replica id in the pod's own colour (the one blast and kill-pod show). With -f it
 * follows pods as they come, replacements included, until Ctrl-C.
 */

/** A line as printed: "xk2lp │ text", the id painted. */
type Show = (pod: string, line: string) => void;

export async function logs(flags: LogsFlags, ctx: Context): Promise<void> {
  const target = await resolveTarget(flags, ctx, { detect: true });
  if (target === undefined) throw noCluster();
  const api = connect(target);
  let colours = await rememberedColours(ctx.home);
  const show: Show = (pod, line) => {
    const paint = podPainter(ctx.printer.color, colours);
    ctx.printer.line(`${paint(pod, replicaId(pod))} │ ${line}`);
  };
  const colour = async (pods: string[]) => {
    colours = assignColours(colours, pods);
    await rememberColours(ctx.home, colours);
  };
  const since = flags.since !== undefined ? { sinceSeconds: flags.since } : {};
  if (flags.follow) return follow(api, ctx, show, colour, since);

  const pods = (await api.listAppPods()).map((p) => p.metadata?.name ?? '').filter(Boolean);
  await colour(pods);
  // Each line carries the API's timestamp, so the pods' lines merge in the order written.
  const lines = (
    await Promise.all(
      pods.map(async (pod) =>
        (await api.readPodLog(pod, CONTAINER_NAME, { ...since, timestamps: true }))
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => {
            const space = line.indexOf(' ');
            return { pod, at: line.slice(0, space), text: line.slice(space + 1) };
          }),
      ),
    )
  ).flat();
  lines.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  for (const line of lines) show(line.pod, line.text);
  if (pods.length === 0) ctx.printer.note('No pods of the lesson here: `replica-demo up` first.');
}

function started(pod: k8s.V1Pod): boolean {
  return (pod.status?.containerStatuses ?? []).some(
    (c) =>
      c.name === CONTAINER_NAME &&
      (c.state?.running !== undefined || c.state?.terminated !== undefined),
  );
}

/** Follows every pod whose container has started, as it starts, until Ctrl-C. */
async function follow(
  api: KubeApi,
  ctx: Context,
  show: Show,
  colour: (pods: string[]) => Promise<void>,
  since: { sinceSeconds?: number },
): Promise<void> {
  const pods = api.pods({ labelSelector: APP_LABEL });
  const followed = new Map<string, Promise<{ stop(): void } | undefined>>();
  const begin = (pod: string) => {
    let rest = '';
    followed.set(
      pod,
      colour([...followed.keys(), pod])
        .then(() =>
          api.followPodLog(
            pod,
            CONTAINER_NAME,
            (text) => {
              const parts = (rest + text).split('\n');
              rest = parts.pop() ?? '';
              for (const line of parts) show(pod, line);
            },
            since,
          ),
        )
        .catch((error: unknown) => {
          ctx.printer.note(`Not following ${pod}: ${(error as Error).message}`);
          return undefined;
        }),
    );
  };
  pods.onChange((change, pod) => {
    const name = pod.metadata?.name ?? '';
    if (change === 'delete' || name === '' || followed.has(name) || !started(pod)) return;
    begin(name);
  });
  try {
    await pods.start();
    for (const pod of pods.list()) {
      const name = pod.metadata?.name ?? '';
      if (name !== '' && !followed.has(name) && started(pod)) begin(name);
    }
    ctx.printer.note(
      `Following the logs of ${followed.size} pod(s) and any that start; Ctrl-C stops.`,
    );
    // Only Ctrl-C ends it (a day at most, as `kubectl logs -f` has no end either).
    await waitUntil([pods], () => undefined, {
      signal: ctx.signal,
      timeoutMs: 24 * 3600 * 1000,
      onTimeout: () => new StatusExit('Stopped following after a day.', ExitCode.Ok),
    });
  } catch (error) {
    if (!ctx.signal.aborted) throw error;
  } finally {
    pods.stop();
    for (const stream of followed.values()) void stream.then((s) => s?.stop());
  }
}
