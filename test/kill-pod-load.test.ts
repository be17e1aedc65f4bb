import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NAMESPACE, startLab, waitForPod, type Lab } from './blast-support.js';

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

interface LoadJson {
  killed: string;
  replacement: string;
  recoverySeconds: number;
  timeline: Array<{ event: string; atSeconds: number; detail?: string }>;
  force: boolean;
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
    expect(s.pods[kill.replacement] ?? 0).toBeGreaterThan(0);
  }
  expect(load.pods).toContain(kill.replacement);
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
    expectSteadyLoad(kill);
    // Marked with grace 0 and gone from the API at once, as the real API server does it.
    const at = (event: string) => kill.timeline.find((e) => e.event === event);
    expect(at('terminating')?.detail).toBe('grace period 0 s');
    expect(at('old-pod-gone')!.atSeconds).toBeLessThan(0.5);
    // As on a real cluster: the Service stops sending to the pod well before its kubelet
    // stops the process, so no request fails (see the sim's kubelet and proxy).
    expect(kill.load.failed).toBe(0);
  }, 200_000);

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
