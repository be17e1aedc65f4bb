import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RELIST_PERIOD_MS } from '../src/sim/kubelet/clock.js';
import { ENDPOINTS_PROPAGATION_MS } from '../src/sim/proxy.js';
import { NAMESPACE, startLab, waitForPod, type Lab } from './blast-support.js';
import type { CrashResult } from '../src/cli/commands/kill-pod.js';

/**
 * `kill-pod --under-load` on the embedded cluster: a steady load through the Service while a
 * replica is killed, counted per second, gracefully and with --force; its --json; Ctrl-C.
 */

let lab: Lab;

interface LoadSecond {
  second: number;
  requests: number;
  failed: number;
  pods: Record<string, number>;
}

type CrashJson = CrashResult;

interface LoadJson {
  killed: string;
  replacement: string | null;
  node: string | null;
  recoverySeconds: number;
  timeline: Array<{ event: string; atSeconds: number; detail?: string }>;
  mode: 'graceful' | 'force' | 'crash';
  force: boolean;
  crash: CrashJson | null;
  load: {
    job: string;
    ratePerSecond: number;
    requests: number;
    failed: number;
    failedBetweenSeconds: { first: number; last: number } | null;
    curlErrors: Array<{ code: number; message: string; count: number }>;
    victimLastAnswerSeconds: number | null;
    victimAnswersAfterKill: number;
    pods: string[];
    seconds: LoadSecond[];
  };
}

const BLAST = 'app.kubernetes.io/component=blast';

async function podNames(): Promise<string[]> {
  const { core } = lab.clients();
  const pods = await core.listNamespacedPod({
    namespace: NAMESPACE,
    labelSelector: 'app=web-server',
  });
  return pods.items.filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata!.name!);
}

async function blastObjects(): Promise<{ jobs: number; pods: number }> {
  const { core, batch } = lab.clients();
  const jobs = await batch.listNamespacedJob({ namespace: NAMESPACE, labelSelector: BLAST });
  const pods = await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: BLAST });
  return { jobs: jobs.items.length, pods: pods.items.length };
}

async function killUnderLoad(args: string[]): Promise<LoadJson> {
  const before = await podNames();
  expect(before).toHaveLength(5);
  const result = await lab.run(['kill-pod', '--under-load', ...args, '--json'], 180_000);
  expect(result.exitCode, result.stderr).toBe(0);
  expect(result.stdout.trim().split('\n')).toHaveLength(1);
  const kill = JSON.parse(result.stdout) as LoadJson;
  expect(before).toContain(kill.killed);
  expect(await blastObjects()).toEqual({ jobs: 0, pods: 0 });
  return kill;
}

/** What every load shows: its size, seconds before and after, and who answered when. */
function expectSteadyLoad(kill: LoadJson): void {
  const { load } = kill;
  expect(load.job).toMatch(/^replica-demo-blast-\w{6}$/);
  expect(load.ratePerSecond).toBe(50);
  expect(load.requests).toBe(1250);
  expect(load.seconds.reduce((sum, s) => sum + s.requests, 0)).toBe(load.requests);
  const before = load.seconds.filter((s) => s.second < 0 && s.requests >= 40);
  const after = load.seconds.filter((s) => s.second >= 8 && s.requests >= 40);
  expect(before.length).toBeGreaterThanOrEqual(4);
  expect(after.length).toBeGreaterThanOrEqual(5);
  // Before the kill the victim took its share of every full second; a second after it, none.
  for (const s of before) expect(s.pods[kill.killed] ?? 0).toBeGreaterThan(0);
  for (const s of load.seconds.filter((x) => x.second >= 1))
    expect(s.pods[kill.killed]).toBeUndefined();
  expect(load.victimLastAnswerSeconds).toBeLessThan(0.5);
  // Once ready, the replacement takes its share.
  const readyAt = kill.timeline.find((e) => e.event === 'ready')!.atSeconds;
  for (const s of after) {
    expect(s.second).toBeGreaterThan(readyAt);
    expect(s.pods[kill.replacement!] ?? 0).toBeGreaterThan(0);
  }
  expect(load.pods).toContain(kill.replacement);
}

async function restartCounts(): Promise<Record<string, number>> {
  const { core } = lab.clients();
  const pods = await core.listNamespacedPod({
    namespace: NAMESPACE,
    labelSelector: 'app=web-server',
  });
  return Object.fromEntries(
    pods.items.map((p) => [p.metadata!.name!, p.status?.containerStatuses?.[0]?.restartCount ?? 0]),
  );
}

/** What every crash under load shows, whatever it cost: its moments, its pod, its load. */
function expectCrash(kill: LoadJson, restartsBefore: Record<string, number>): void {
  expect(kill.mode).toBe('crash');
  expect(kill.force).toBe(false);
  // The same pod runs again: nothing was replaced, nothing deleted.
  expect(kill.replacement).toBeNull();
  expect(kill.node).toMatch(/^replica-demo-worker/);
  expect(restartsBefore[kill.killed]).toBe(0);
  const crash = kill.crash!;
  expect(crash).toMatchObject({ pod: kill.killed, exitCode: 1, reason: 'Error', restartCount: 1 });
  // The kubelet noticed within its relist period; the endpoints followed; then the restart.
  expect(crash.notReadySeconds).toBeGreaterThan(0);
  expect(crash.notReadySeconds).toBeLessThan(RELIST_PERIOD_MS / 1000 + 0.3);
  expect(crash.leftEndpointsSeconds).toBeGreaterThanOrEqual(crash.notReadySeconds!);
  expect(crash.restartedSeconds).toBeGreaterThan(crash.notReadySeconds!);
  expect(crash.readyAgainSeconds).toBeGreaterThanOrEqual(crash.restartedSeconds!);
  expect(kill.timeline.map((e) => e.event)).toEqual([
    'crashed',
    'not-ready',
    'left-endpoints',
    'restarted',
    'ready-again',
    'recovered',
  ]);
  expect(kill.timeline.find((e) => e.event === 'not-ready')?.detail).toBe('exit code 1, Error');
  expect(kill.timeline.find((e) => e.event === 'restarted')?.detail).toBe('restart count 1');
  const { load } = kill;
  expect(load.requests).toBe(1250);
  expect(load.seconds.reduce((sum, s) => sum + s.requests, 0)).toBe(load.requests);
  // Every request was answered by some pod, or failed.
  for (const s of load.seconds)
    expect(Object.values(s.pods).reduce((sum, n) => sum + n, 0) + s.failed).toBe(s.requests);
  // Failures only from the crash until the proxy heard the pod had left the endpoints...
  const closed = crash.leftEndpointsSeconds! + ENDPOINTS_PROPAGATION_MS / 1000 + 0.05;
  if (load.failedBetweenSeconds !== null) {
    expect(load.failedBetweenSeconds.first).toBeGreaterThanOrEqual(-0.05);
    expect(load.failedBetweenSeconds.last).toBeLessThanOrEqual(closed);
    // ...and no more than the crashed pod's share of that window: the others answered theirs.
    const window = load.seconds.filter((s) => s.second >= 0 && s.second <= Math.floor(closed));
    const sent = window.reduce((sum, s) => sum + s.requests, 0);
    expect(load.failed).toBeLessThanOrEqual(Math.ceil(sent * 0.5));
  }
  for (const s of load.seconds.filter((x) => x.failed > 0)) {
    expect(s.second).toBeGreaterThanOrEqual(-1);
    expect(s.second).toBeLessThanOrEqual(Math.floor(closed));
  }
  // The crashed pod answered before, not in the seconds it was down, and again after.
  for (const s of load.seconds.filter((x) => x.second < -1 && x.requests >= 40))
    expect(s.pods[kill.killed] ?? 0).toBeGreaterThan(0);
  for (const s of load.seconds.filter(
    (x) => x.second >= 0 && x.second + 1 <= crash.notReadySeconds!,
  ))
    expect(s.pods[kill.killed]).toBeUndefined();
  const back = load.seconds.filter(
    (s) => s.second > crash.readyAgainSeconds! + 1 && s.requests >= 40,
  );
  expect(back.length).toBeGreaterThanOrEqual(5);
  for (const s of back) expect(s.pods[kill.killed] ?? 0).toBeGreaterThan(0);
  expect(load.victimAnswersAfterKill).toBeGreaterThan(0);
}

beforeAll(async () => {
  lab = await startLab('kill-pod-load-tests');
  const up = await lab.run(['up', '--sim'], 240_000);
  expect(up.exitCode, `${up.ended ?? ''} ${up.stderr}`).toBe(0);
}, 300_000);

afterAll(async () => {
  // Every pod process and curl the cluster started must be gone with it.
  expect(await lab?.close()).toEqual([]);
}, 120_000);

describe('kill-pod --under-load on the embedded cluster', () => {
  it('loses none of at least 1,000 requests when a replica is deleted gracefully', async () => {
    const kill = await killUnderLoad(['--seed', 'load']);
    expect(kill.force).toBe(false);
    expect(kill.mode).toBe('graceful');
    expect(kill.crash).toBeNull();
    expect(kill.load.failed).toBe(0);
    expect(kill.load.failedBetweenSeconds).toBeNull();
    expect(kill.load.curlErrors).toEqual([]);
    expectSteadyLoad(kill);
    // It terminated (preStop, then SIGTERM) while serving nothing new.
    const terminating = kill.timeline.find((e) => e.event === 'terminating');
    expect(terminating?.detail).toBe('grace period 30 s');
    const gone = kill.timeline.find((e) => e.event === 'old-pod-gone')!.atSeconds;
    expect(gone).toBeGreaterThanOrEqual(5);
  }, 200_000);

  it('with --force deletes at once, and counts what that cost: nothing here either', async () => {
    const kill = await killUnderLoad(['--force']);
    expect(kill.force).toBe(true);
    expect(kill.mode).toBe('force');
    expectSteadyLoad(kill);
    // Marked with grace 0 and gone from the API at once, as the real API server does it.
    const at = (event: string) => kill.timeline.find((e) => e.event === event);
    expect(at('terminating')?.detail).toBe('grace period 0 s');
    expect(at('old-pod-gone')!.atSeconds).toBeLessThan(0.5);
    // As on a real cluster: the Service stops sending to the pod well before its kubelet
    // stops the process, so no request fails (see the sim's kubelet and proxy).
    expect(kill.load.failed).toBe(0);
  }, 200_000);

  it('with --crash loses requests only while the dead process is an endpoint, and restarts it in the same pod (exit 0)', async () => {
    /**
     * The kubelet notices a dead container at its next relist, 0 to 1 s after the crash, and
     * the crashed pod gets a fifth of 50 requests a second meanwhile: a window of a few tenths
     * of a second may hold none. So another pod is crashed until one window was long enough
     * (0.4 s: about 20 requests, of which a fifth go to the crashed pod) to be sure of a loss.
     */
    const WINDOW_FOR_A_SURE_LOSS = 0.4;
    const crashed: string[] = [];
    let kill: LoadJson | undefined;
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const counts = await restartCounts();
      const pod = Object.keys(counts)
        .sort()
        .find((name) => !crashed.includes(name));
      expect(pod).toBeDefined();
      const run = await killUnderLoad(['--crash', '--pod', pod!]);
      crashed.push(run.killed);
      expectCrash(run, counts);
      // The same five pods, the crashed one restarted once, the others untouched.
      expect(await restartCounts()).toEqual({ ...counts, [run.killed]: 1 });
      if (run.crash!.leftEndpointsSeconds! >= WINDOW_FOR_A_SURE_LOSS) {
        kill = run;
        break;
      }
    }
    expect(kill, 'every window was shorter than 0.4 s').toBeDefined();
    const { load } = kill!;
    expect(load.failed).toBeGreaterThan(0);
    expect(load.curlErrors.reduce((sum, e) => sum + e.count, 0)).toBe(load.failed);
  }, 900_000);

  it('prints the seconds as a table with the kill and ready moments marked', async () => {
    const run = await lab.runInProcess(['kill-pod', '--under-load', '--force']);
    expect(run.code, run.stderr).toBe(0);
    const out = run.stdout;
    expect(out).toContain('Requests per second through the Service (second 0 begins at the kill):');
    expect(out).toMatch(/^ {2}SEC {2}REQS {2}FAILED {2}PODS THAT ANSWERED$/m);
    const lines = out.split('\n');
    const deleted = lines.findIndex((l) =>
      /^ {2}▸ \+0\.00 s {2}\w{5} deleted with grace 0 \(--force\)$/.test(l),
    );
    expect(deleted).toBeGreaterThan(0);
    expect(lines[deleted - 1]).toMatch(/^ +-1 +\d+ +0 /);
    expect(out).toMatch(/^ {2}▸ \+\d\.\d\d s {2}\w{5} ready, in the Service's endpoints$/m);
    expect(out).toMatch(/^ {2}total 1250 requests, 0 failed$/m);
    expect(out).toContain('0 of 1250 requests failed, even with --force.');
    expect(run.stderr).toMatch(
      /Load: 1250 requests, 0 failed \(Job replica-demo-blast-\w+, 1 pod\)/,
    );
  }, 200_000);

  it('stops on Ctrl-C before the kill: deletes its Job, kills nothing, exits 130 with one line', async () => {
    const before = (await podNames()).sort();
    const child = lab.spawn(['kill-pod', '--under-load']);
    const { kc } = lab.clients();
    await waitForPod(kc, BLAST, (p) => p.status?.phase === 'Running', 60_000);
    await new Promise((r) => setTimeout(r, 1000));
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    const lines = String(result.stderr).trim().split('\n');
    expect(lines.at(-1)).toMatch(
      /^Error: Interrupted before any pod was killed: deleted Job replica-demo-blast-\w{6} and its pod\.$/,
    );
    expect(String(result.stdout)).not.toContain('Killing');
    expect((await podNames()).sort()).toEqual(before);
    expect(await blastObjects()).toEqual({ jobs: 0, pods: 0 });
  }, 120_000);

  it('stops on Ctrl-C after the kill: says the pod was replaced and the Job deleted', async () => {
    const child = lab.spawn(['kill-pod', '--under-load']);
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const deadline = Date.now() + 60_000;
    while (!/Back to 5\/5 ready/.test(out) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(out).toMatch(/Back to 5\/5 ready/);
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(String(result.stderr).trim().split('\n').at(-1)).toMatch(
      /^Error: Interrupted after the kill: web-server-deployment-\S+ was replaced by web-server-deployment-\S+; deleted Job replica-demo-blast-\w{6} and its pod\.$/,
    );
    expect(await blastObjects()).toEqual({ jobs: 0, pods: 0 });
    expect(await podNames()).toHaveLength(5);
  }, 120_000);
});
