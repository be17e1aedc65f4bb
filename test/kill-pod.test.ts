import http from 'node:http';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killPod } from '../src/cli/commands/kill-pod.js';
import { createContext } from '../src/cli/context.js';
import { pickOne, seededRandom } from '../src/cli/core/blast-plan.js';
import { NAMESPACE, startLab, type Lab } from './blast-support.js';
import { runMain } from './helpers/in-process.js';

let lab: Lab;

interface KillJson {
  killed: string;
  replacement: string;
  node: string;
  recoverySeconds: number;
  timeline: Array<{ event: string; atSeconds: number; detail?: string }>;
}

async function podNames(): Promise<{ all: string[]; ready: string[] }> {
  const { core } = lab.clients();
  const pods = await core.listNamespacedPod({
    namespace: NAMESPACE,
    labelSelector: 'app=web-server',
  });
  const live = pods.items.filter((p) => !p.metadata?.deletionTimestamp);
  return {
    all: live.map((p) => p.metadata?.name ?? ''),
    ready: live
      .filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
      .map((p) => p.metadata?.name ?? ''),
  };
}

/**
 * `kill-pod --seed SEED` through the command itself, with every other source of chance fixed
 * so that, were the seed ignored, the choice would fall on another pod than the seed's.
 */
async function killSeeded(seed: string): Promise<{ ready: string[]; killed: string }> {
  const { ready } = await podNames();
  expect(ready).toHaveLength(5);
  const seeds = [...ready].sort().indexOf(pickOne(ready, seededRandom(seed))!);
  const ctx = {
    ...createContext({
      signal: new AbortController().signal,
      env: lab.env,
      stdout: new PassThrough() as unknown as NodeJS.WriteStream,
      stderr: new PassThrough() as unknown as NodeJS.WriteStream,
      stdin: new PassThrough() as unknown as NodeJS.ReadStream,
    }),
    random: () => (seeds === 0 ? 0.99 : 0),
  };
  const result = await killPod({ seed, grace: 1, json: true, timeout: 120 }, ctx);
  return { ready, killed: result.killed };
}

beforeAll(async () => {
  lab = await startLab('kill-pod-tests');
  const up = await lab.run(['up', '--sim'], 240_000);
  expect(up.exitCode, `${up.ended ?? ''} ${up.stderr}`).toBe(0);
}, 300_000);

afterAll(async () => {
  // Every pod process and curl the cluster started must be gone with it.
  expect(await lab?.close()).toEqual([]);
}, 120_000);

describe('kill-pod on the embedded cluster', () => {
  it('lists the valid names for an unknown --pod and deletes nothing (exit 2)', async () => {
    const before = await podNames();
    const result = await lab.runInProcess([
      'kill-pod',
      '--pod',
      'web-server-deployment-nope-zzzzz',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n').at(-1)).toMatch(
      /--pod web-server-deployment-nope-zzzzz is not a pod/,
    );
    for (const name of before.all) expect(result.stderr).toContain(name);
    expect((await podNames()).all.sort()).toEqual(before.all.sort());
  });

  it('replaces the killed pod with a new, Ready one and prints the timeline in order', async () => {
    const before = await podNames();
    expect(before.ready).toHaveLength(5);
    const result = await lab.run(['kill-pod', '--seed', '7', '--grace', '1', '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    const kill = JSON.parse(result.stdout) as KillJson;
    expect(before.all).toContain(kill.killed);
    expect(kill.replacement).not.toBe(kill.killed);
    expect(before.all).not.toContain(kill.replacement);
    expect(kill.node).toMatch(/^replica-demo-/);

    const events = kill.timeline.map((e) => e.event);
    for (const needed of [
      'deleted',
      'terminating',
      'left-endpoints',
      'replacement-created',
      'scheduled',
      'started',
      'ready',
      'old-pod-gone',
    ]) {
      expect(events, needed).toContain(needed);
    }
    expect(events[0]).toBe('deleted');
    const times = kill.timeline.map((e) => e.atSeconds);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const at = (e: string) => kill.timeline.find((x) => x.event === e)!.atSeconds;
    // The old pod got the grace period asked for, not its own 30 s.
    expect(kill.timeline.find((e) => e.event === 'terminating')?.detail).toBe('grace period 1 s');
    expect(at('replacement-created')).toBeLessThanOrEqual(at('scheduled'));
    expect(at('scheduled')).toBeLessThanOrEqual(at('started'));
    expect(at('started')).toBeLessThanOrEqual(at('ready'));
    // Recovery is the moment all five are ready again: not before the replacement is.
    expect(kill.recoverySeconds).toBe(at('recovered'));
    expect(at('recovered')).toBeGreaterThanOrEqual(at('ready'));

    const after = await podNames();
    expect(after.ready).toContain(kill.replacement);
    expect(after.all).not.toContain(kill.killed);
    expect(after.ready).toHaveLength(5);
  });

  it('times recovery to five ready pods, while the old pod still finishes a request', async () => {
    const { core } = lab.clients();
    const before = await podNames();
    const victim = [...before.ready].sort()[0]!;
    const pod = await core.readNamespacedPod({ name: victim, namespace: NAMESPACE });
    // A request still in flight keeps the old pod terminating for about 10 s; the replacement
    // is ready long before, and that, not the old pod's end, is when the Deployment recovered.
    const inFlight = new Promise<number>((resolve, reject) => {
      http
        .get(
          { host: pod.status!.podIP, port: 8080, path: '/load?ms=10000', agent: false },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        )
        .on('error', reject);
    });
    const result = await lab.run(['kill-pod', '--pod', victim, '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    const kill = JSON.parse(result.stdout) as KillJson;
    expect(kill.killed).toBe(victim);
    const at = (e: string) => kill.timeline.find((x) => x.event === e)!.atSeconds;
    expect(kill.recoverySeconds).toBe(at('recovered'));
    expect(at('recovered')).toBeGreaterThanOrEqual(at('ready'));
    expect(at('recovered')).toBeLessThan(at('old-pod-gone'));
    // The old pod finished the request it had before it went.
    expect(await inFlight).toBe(200);
    expect((await podNames()).ready).toHaveLength(5);
  }, 90_000);

  it('picks the pod its --seed names, the same for the same seed, another for another', async () => {
    const first = await killSeeded('lesson');
    expect(first.killed).toBe(pickOne(first.ready, seededRandom('lesson')));
    const again = await killSeeded('lesson');
    expect(again.killed).toBe(pickOne(again.ready, seededRandom('lesson')));
    // Different pods by now, but the same place among them, as the seed decides.
    const place = (k: { ready: string[]; killed: string }) => [...k.ready].sort().indexOf(k.killed);
    expect(place(again)).toBe(place(first));
    const ready = (await podNames()).ready;
    const other = ['1', '2', '3', '4', '5', '6', '7', '8'].find(
      (seed) => [...ready].sort().indexOf(pickOne(ready, seededRandom(seed))!) !== place(first),
    )!;
    const third = await killSeeded(other);
    expect(third.killed).toBe(pickOne(third.ready, seededRandom(other)));
    expect(place(third)).not.toBe(place(first));
  }, 90_000);

  it('prints a readable timeline and the recovery time', async () => {
    const result = await lab.run(['kill-pod', '--grace', '1']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/\+ 0\.00 s {2}deleted /);
    // Hundredths, and the preStop wait the old pod serves before SIGTERM.
    expect(result.stdout).toMatch(/\+ *\d+\.\d\d s {2}old pod terminating/);
    // With --grace 1 the preStop hook's 5 s never finish, and it says so.
    expect(result.stdout).toContain(
      'its preStop hook would wait 5 s before SIGTERM, but the 1 s grace period ends first',
    );
    expect(result.stdout).toMatch(/ReplicaSet created the replacement web-server-deployment-/);
    expect(result.stdout).toMatch(/Back to 5\/5 ready in \d+\.\d s/);
  });

  it('shows each pod in one colour across blast, kill-pod and the next blast', async () => {
    const env = { ...lab.env, NO_COLOR: undefined, FORCE_COLOR: '1' };
    /** The colour code a pod's name is printed in, the first time it appears. */
    const colourOf = (text: string, pod: string) =>
      new RegExp(`\u001b\\[(\\d+)m${pod}\u001b\\[39m`).exec(text)?.[1];
    const blast = async () => {
      const run = await runMain(['blast', '--count', '20', '--via', 'service'], env);
      expect(run.code, run.stderr).toBe(0);
      return run.stdout;
    };
    const { all } = await podNames();
    const first = await blast();
    const before = new Map(all.map((pod) => [pod, colourOf(first, pod)]));
    expect(new Set(before.values()).size).toBe(5);
    expect([...before.values()]).not.toContain(undefined);

    const victim = [...all].sort()[2]!;
    const kill = await runMain(['kill-pod', '--pod', victim, '--grace', '1'], env);
    expect(kill.code, kill.stderr).toBe(0);
    expect(colourOf(kill.stdout, victim)).toBe(before.get(victim));
    // eslint-disable-next-line no-control-regex
    const replacement = /created the replacement \u001b\[\d+m(\S+)\u001b\[39m/.exec(
      kill.stdout,
    )?.[1];
    expect(replacement, kill.stdout).toBeDefined();
    const replacementColour = colourOf(kill.stdout, replacement!);
    // Its own colour: none of the pods that stay has it.
    const staying = all.filter((pod) => pod !== victim);
    expect(staying.map((pod) => before.get(pod))).not.toContain(replacementColour);

    const second = await blast();
    for (const pod of staying) expect(colourOf(second, pod)).toBe(before.get(pod));
    expect(colourOf(second, replacement!)).toBe(replacementColour);
  });
});
