import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NAMESPACE, startLab, type Lab } from './blast-support.js';

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
    const result = await lab.run(['kill-pod', '--pod', 'web-server-deployment-nope-zzzzz']);
    expect(result.exitCode).toBe(2);
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
    expect(kill.recoverySeconds).toBeGreaterThan(0);

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
    expect(at('replacement-created')).toBeLessThanOrEqual(at('scheduled'));
    expect(at('scheduled')).toBeLessThanOrEqual(at('started'));
    expect(at('started')).toBeLessThanOrEqual(at('ready'));

    const after = await podNames();
    expect(after.ready).toContain(kill.replacement);
    expect(after.all).not.toContain(kill.killed);
    expect(after.ready).toHaveLength(5);
  });

  it('picks the same pod for the same --seed', async () => {
    // Dry comparison: the choice depends only on the seed and the sorted ready names.
    const { pickOne, seededRandom } = await import('../src/cli/core/blast-plan.js');
    const names = (await podNames()).ready;
    expect(pickOne(names, seededRandom('7'))).toBe(
      pickOne([...names].reverse(), seededRandom('7')),
    );
  });

  it('prints a readable timeline and the recovery time', async () => {
    const result = await lab.run(['kill-pod', '--grace', '1']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/\+\s+0\.0 s {2}deleted /);
    expect(result.stdout).toMatch(/ReplicaSet created the replacement web-server-deployment-/);
    expect(result.stdout).toMatch(/Back to 5\/5 ready in \d+\.\d s/);
  });
});
