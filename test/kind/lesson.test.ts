import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The lesson against a real kind cluster. Opt-in (`npm run test:kind`): it builds and loads
 * an image and changes the cluster, so it never runs by default, and it skips with one line
 * where no kind cluster is reachable.
 */

const root = path.resolve(import.meta.dirname, '../..');
const cli = path.join(root, 'bin/replica-demo.js');

async function reachableKindCluster(): Promise<string | undefined> {
  try {
    const clusters = (await execa('kind', ['get', 'clusters'], { timeout: 20_000 })).stdout
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('No kind clusters'));
    const name = clusters[0];
    if (!name) return undefined;
    await execa('kubectl', ['--context', `kind-${name}`, 'get', '--raw', '/readyz'], {
      timeout: 20_000,
    });
    return name;
  } catch {
    return undefined;
  }
}

const cluster = await reachableKindCluster();
if (!cluster)
  console.log(
    'kind suite skipped: no kind cluster is reachable (`kind get clusters` lists none that answers)',
  );

describe.skipIf(!cluster)(`the lesson on kind cluster ${cluster ?? ''}`, () => {
  let home: string;
  const run = (args: string[]) =>
    execa('node', [cli, ...args], {
      reject: false,
      env: { REPLICA_DEMO_HOME: home, NO_COLOR: '1' },
      timeout: 540_000,
    });

  beforeAll(() => {
    home = mkdtempSync(path.join(os.tmpdir(), 'replica-demo-kind-'));
  });
  afterAll(async () => {
    await run(['down', '--yes']);
    rmSync(home, { recursive: true, force: true });
  });

  it('brings up 5 ready replicas', async () => {
    const up = await run(['up', '--cluster', cluster ?? '']);
    expect(up.exitCode, up.stderr).toBe(0);
    const pods = await execa('kubectl', [
      '--context',
      `kind-${cluster}`,
      'get',
      'pods',
      '-n',
      'multi-replica-web',
      '-l',
      'app=web-server',
      '-o',
      'jsonpath={range .items[*]}{.status.containerStatuses[0].ready}{"\\n"}{end}',
    ]);
    expect(pods.stdout.split('\n').filter((l) => l === 'true')).toHaveLength(5);
  });

  it('spreads a Service blast over the replicas and port-forward over one', async () => {
    const blast = await run(['blast', '--count', '200', '--json']);
    expect(blast.exitCode, blast.stderr).toBe(0);
    const result = JSON.parse(blast.stdout) as {
      service: { total: number; pods: { count: number }[] };
      portForward: { pods: { count: number }[] };
    };
    expect(result.service.total).toBe(200);
    expect(result.service.pods.filter((p) => p.count > 0).length).toBeGreaterThan(1);
    expect(result.portForward.pods.filter((p) => p.count > 0)).toHaveLength(1);
  });

  it('replaces a killed replica', async () => {
    const kill = await run(['kill-pod', '--json']);
    expect(kill.exitCode, kill.stderr).toBe(0);
    const result = JSON.parse(kill.stdout) as { killed: string; replacement: string };
    expect(result.replacement).not.toBe(result.killed);
  });
});
