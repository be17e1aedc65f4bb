import type * as k8s from '@kubernetes/client-node';
import http from 'node:http';
import { assignColours } from '../core/colours.js';
import { DEPLOYMENT, SERVICE } from '../core/names.js';
import { isPodReady, targetPortFor } from '../core/pods.js';
import { describe } from '../core/timeline.js';
import { crashMoment } from '../core/under-load.js';
import { InterruptedError, OperationError, TimeoutError } from '../errors.js';
import { waitUntil } from '../kube/informer.js';
import { rememberedColours } from '../pod-colours.js';
import { paintNames, podPainter } from '../render/colours.js';
import {
  endpointPodNames,
  recordTimeline,
  type CrashSeen,
  type Follow,
  type Recorder,
  type Seen,
} from './follow.js';

/**
 * The kill of `kill-pod --under-load --crash`: the replica's server process exits as in a
 * crash, while its pod is still Ready and an endpoint, and its kubelet is followed, by watch,
 * as it notices, takes the pod out of the endpoints and restarts the container in place.
 * The crash is asked for through a port-forward, the one way the server accepts it.
 */

const CRASH_ANSWER_TIMEOUT_MS = 10_000;

/** The server container's status: the one the Service's port belongs to, or the first. */
function serverStatus(pod: k8s.V1Pod | undefined): k8s.V1ContainerStatus | undefined {
  const name = pod?.spec?.containers[0]?.name;
  const statuses = pod?.status?.containerStatuses ?? [];
  return statuses.find((c) => c.name === name) ?? statuses[0];
}

function readinessOf(pod: k8s.V1Pod | undefined): CrashSeen['readiness'] {
  const probe = pod?.spec?.containers[0]?.readinessProbe;
  if (!probe) return null;
  // The API's defaults, where the manifest leaves them out.
  return {
    periodSeconds: probe.periodSeconds ?? 10,
    failureThreshold: probe.failureThreshold ?? 3,
  };
}

/** POST /crash through the local end of a port-forward; the server's answer. */
function postCrash(host: string, port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host,
        port,
        path: '/crash',
        method: 'POST',
        agent: false,
        headers: { Connection: 'close', 'Content-Length': '0' },
        timeout: CRASH_ANSWER_TIMEOUT_MS,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', reject);
    req.end();
  });
}

function refusal(victim: string, answer: { status: number; body: string }): OperationError {
  let said = answer.body.trim();
  try {
    said = (JSON.parse(said) as { error?: string }).error ?? said;
  } catch {
    // Not JSON: quoted as it came.
  }
  const why = `${answer.status}${said ? `: ${said}` : ''}`;
  return answer.status === 404
    ? new OperationError(
        `The server in ${victim} has no POST /crash (it answered ${why}): its image is older than this replica-demo.`,
        'Run `replica-demo up` to build and roll out the current image, then try again.',
      )
    : new OperationError(`The server in ${victim} did not crash: it answered ${why}.`);
}

/**
 * What the watch says of the crashed pod, heard from before the crash (so no change the caches
 * take in meanwhile goes unheard) and recorded from `start`, the crash.
 */
class CrashWatch {
  readonly crash: CrashSeen;
  private recorder: Recorder | undefined;
  private inEndpoints: boolean;
  private readonly restartsBefore: number;

  constructor(
    private readonly f: Follow,
    private readonly victim: string,
    pod: k8s.V1Pod,
  ) {
    this.crash = { exitCode: null, reason: null, restartCount: null, readiness: readinessOf(pod) };
    this.restartsBefore = serverStatus(pod)?.restartCount ?? 0;
    this.inEndpoints = endpointPodNames(f.endpoints.get(SERVICE)).has(victim);
    f.endpoints.onChange((change, object) => {
      if (object.metadata?.name !== SERVICE || change === 'delete') return;
      const present = endpointPodNames(object).has(victim);
      if (this.recorder && this.inEndpoints && !present)
        this.recorder.observe('left-endpoints', victim);
      this.inEndpoints = present;
    });
    f.pods.onChange((change, current) => {
      if (current.metadata?.name === victim && change !== 'delete') this.onPod(current);
    });
  }

  start(crashedAt: number, show: (text: string) => void): Recorder {
    const { plan, ctx, pods } = this.f;
    const recorder = recordTimeline(
      plan.json,
      { event: 'crashed', at: crashedAt, detail: this.victim },
      show,
      () => ctx.now(),
    );
    this.recorder = recorder;
    this.onPod(pods.get(this.victim));
    return recorder;
  }

  private onPod(current: k8s.V1Pod | undefined): void {
    if (!this.recorder || !current) return;
    const { observe } = this.recorder;
    const { crash } = this;
    const status = serverStatus(current);
    const restarts = status?.restartCount ?? 0;
    const restarted = restarts > this.restartsBefore;
    if (!isPodReady(current) || restarted) {
      const ended = status?.state?.terminated ?? status?.lastState?.terminated;
      if (ended && crash.exitCode === null) {
        crash.exitCode = ended.exitCode;
        crash.reason = ended.reason ?? null;
      }
      const code = crash.exitCode !== null ? `exit code ${crash.exitCode}` : undefined;
      observe('not-ready', code && crash.reason ? `${code}, ${crash.reason}` : code);
    }
    if (restarted) {
      crash.restartCount = restarts;
      observe('restarted', `restart count ${restarts}`);
      if (isPodReady(current)) observe('ready-again');
    }
  }
}

/** Asks `victim` to crash through a port-forward to `port`; resolves to the crash's moment. */
async function askToCrash(f: Follow, victim: string, port: number): Promise<number> {
  const tunnel = await f.api.openTunnel(victim, port);
  try {
    const sentAt = f.ctx.now();
    const answer = await postCrash(tunnel.host, tunnel.port).catch((error: unknown) => {
      const detail = [error instanceof Error ? error.message : String(error), ...tunnel.errors()];
      throw new OperationError(
        `Could not ask ${victim} to crash through a port-forward to its port ${port}: ${detail.join('; ')}`,
      );
    });
    if (answer.status !== 202) throw refusal(victim, answer);
    return crashMoment(sentAt, f.ctx.now(), answer.body);
  } finally {
    // Not waited for: the crash is under way, and its timeline has begun.
    void tunnel.close();
  }
}

/**
 * Crashes `victim`'s server process and follows its pod until the Deployment is back to its
 * size with the crashed container running again. `heading` is the first line printed.
 */
export async function crashAndFollow(f: Follow, victim: string, heading: string): Promise<Seen> {
  const { plan, ctx, namespace, desired, api, pods, endpoints } = f;
  const pod = pods.get(victim);
  if (!pod) throw new OperationError(`Pod ${victim} went away before it could be crashed.`);
  const colours = assignColours(
    await rememberedColours(ctx.home),
    pods.list().map((p) => p.metadata?.name ?? ''),
  );
  const show = (text: string) =>
    ctx.printer.line(paintNames(text, [victim], podPainter(ctx.printer.color, colours)));
  const port = targetPortFor(await api.readService(), pod);
  const watch = new CrashWatch(f, victim, pod);
  const crashedAt = await askToCrash(f, victim, port);
  if (!plan.json) {
    show(heading);
    show(`  + 0.00 s  ${describe('crashed', victim)}`);
  }
  const { observations, observe, seen } = watch.start(crashedAt, show);
  const readyCount = () =>
    pods.list().filter((p) => !p.metadata?.deletionTimestamp && isPodReady(p)).length;
  await waitUntil(
    [pods, endpoints],
    () => {
      if (seen('ready-again') && readyCount() >= desired)
        observe('recovered', `${desired}/${desired}`);
      return seen('recovered') ? true : undefined;
    },
    {
      signal: ctx.signal,
      timeoutMs: plan.timeoutSeconds * 1000,
      onTimeout: () =>
        new TimeoutError(
          `Gave up waiting for ${victim} to run again and ${DEPLOYMENT} to be back to ${desired}/${desired} ready after ${plan.timeoutSeconds} s.`,
          `Raise --timeout to wait longer, and see what its kubelet says: \`kubectl describe pod -n ${namespace} ${victim}\`.`,
        ),
      onAbort: () =>
        new InterruptedError(
          `Interrupted while following the crash: ${victim}'s server process was crashed, and its kubelet restarts it on its own (\`kubectl get pods -n ${namespace}\`).`,
        ),
    },
  );
  return {
    victim,
    replacement: undefined,
    observations,
    killedAt: crashedAt,
    show,
    preStop: undefined,
    crash: watch.crash,
  };
}
