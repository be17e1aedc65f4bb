import { execa } from 'execa';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The real-cluster script's refusals: each comes before anything is built or changed, in one
 * line that says what to do, with its exit code. (Building and creating the cluster is the
 * opt-in kind suite's part.)
 */

const root = path.resolve(import.meta.dirname, '..');
const script = path.join(root, 'scripts/kind/cluster.sh');
const work = mkdtempSync(path.join(os.tmpdir(), 'replica-demo-cluster-script-'));
const cache = path.join(work, 'cache');

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A folder with a `docker` that answers `docker info` as told, put first on PATH. */
function fakeDocker(infoWorks: boolean): string {
  const dir = mkdtempSync(path.join(work, 'bin-'));
  const body = infoWorks
    ? '#!/bin/sh\ncase "$*" in *DockerRootDir*) echo /tmp ;; esac\nexit 0\n'
    : '#!/bin/sh\necho "Cannot connect to the Docker daemon" >&2\nexit 1\n';
  writeFileSync(path.join(dir, 'docker'), body, { mode: 0o755 });
  return dir;
}

const run = (args: string[], env: Record<string, string> = {}) =>
  execa('bash', [script, ...args], {
    reject: false,
    env: { REPLICA_DEMO_KIND_CACHE: cache, ...env },
    timeout: 60_000,
  });

const isRoot = process.getuid?.() === 0;
const has = async (tool: string) =>
  (await execa('sh', ['-c', 'command -v "$1"', 'sh', tool], { reject: false })).exitCode === 0;
// The checks before Docker's: go, cc, node and jq must be there to reach it.
const hasGo = (await Promise.all(['go', 'cc', 'node', 'jq'].map(has))).every(Boolean);

describe('scripts/kind/cluster.sh refuses before it builds anything', () => {
  it('refuses an unknown command, naming the ones it has', async () => {
    const r = await run(['make']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/unknown command: make/);
    expect(r.stderr).toMatch(/create, build, delete, status, registry or path/);
  });

  it('refuses to run without root, and says to run it as root', async () => {
    const r = isRoot
      ? await execa(
          'runuser',
          [
            '-u',
            'nobody',
            '--',
            'env',
            `REPLICA_DEMO_KIND_CACHE=${cache}`,
            'bash',
            script,
            'build',
          ],
          { reject: false, timeout: 60_000 },
        )
      : await run(['build']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/must run as root/);
    expect(r.stderr).toMatch(/Run it as root .* npm run test:kind as root too/);
    expect(existsSync(cache)).toBe(false);
  });

  it.skipIf(!isRoot || !hasGo)(
    'refuses when the Docker engine does not answer, and says how to start it',
    async () => {
      const r = await run(['build'], { PATH: `${fakeDocker(false)}:${process.env.PATH ?? ''}` });
      expect(r.exitCode).toBe(4);
      expect(r.stderr).toMatch(/Docker engine is not reachable/);
      expect(r.stderr).toMatch(/\.ci\/start-docker|systemctl start docker/);
      expect(existsSync(cache)).toBe(false);
    },
  );

  it.skipIf(!isRoot || !hasGo)(
    'refuses when the disk is short, and says how much it needs',
    async () => {
      const r = await run(['build'], {
        PATH: `${fakeDocker(true)}:${process.env.PATH ?? ''}`,
        REPLICA_DEMO_KIND_MIN_FREE_GB: '1000000',
      });
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(/not enough disk: \d+ GB free/);
      expect(r.stderr).toMatch(/needs about 1000000 GB/);
    },
  );
});
