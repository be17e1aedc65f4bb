import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { parse } from 'yaml';
import { isProcessAlive, startSim, stopSim } from '../src/cli/sim-control.js';
import { eventually, requireKubectl, startTestSim } from './helpers/sim.js';

/** `replica-demo sim start|status|kubeconfig|stop`, run as a user runs them. */

const bin = fileURLToPath(new URL('../bin/replica-demo.js', import.meta.url));
const home = mkdtempSync(path.join(os.tmpdir(), 'replica-demo-sim-cli-'));

function cli(args: string[]) {
  return execa(process.execPath, [bin, ...args], {
    reject: false,
    env: { REPLICA_DEMO_HOME: home, REPLICA_DEMO_SIM_SEED: 'cli', CI: 'true' },
    timeout: 60_000,
  });
}

afterAll(async () => {
  await stopSim(home);
  rmSync(home, { recursive: true, force: true });
});

describe('replica-demo sim', () => {
  it('rejects a bad --nodes value naming the flag', async () => {
    const r = await cli(['sim', 'start', '--nodes', '11']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--nodes');
  });

  it('says it is not running, and refuses a kubeconfig then', async () => {
    const status = await cli(['sim', 'status']);
    // Like `systemctl status`: stopped is a non-zero answer, with no error line.
    expect(status.exitCode).toBe(13);
    expect(status.stdout).toContain('not running');
    expect(status.stderr).toBe('');
    const json = await cli(['sim', 'status', '--json']);
    expect(json.exitCode).toBe(13);
    expect(JSON.parse(json.stdout)).toMatchObject({ running: false, pid: null, server: null });
    const kc = await cli(['sim', 'kubeconfig']);
    expect(kc.exitCode).toBe(13);
    expect(kc.stderr).toContain('replica-demo sim start');
  });

  it('cleans up the state of a daemon that died', async () => {
    mkdirSync(path.join(home, 'sim'), { recursive: true });
    const state = path.join(home, 'sim', 'state.json');
    writeFileSync(state, JSON.stringify({ pid: 999_999_9, port: 1, token: 'x', ca: '' }));
    const status = await cli(['sim', 'status']);
    expect(status.stdout).toContain('not running');
    expect(existsSync(state)).toBe(false);
  });

  it('never signals a process that took over the pid of a dead daemon', async () => {
    const stranger = execa('sleep', ['30'], { reject: false });
    try {
      mkdirSync(path.join(home, 'sim'), { recursive: true });
      const state = path.join(home, 'sim', 'state.json');
      writeFileSync(state, JSON.stringify({ pid: stranger.pid, port: 1, token: 'x', ca: '' }));
      const stop = await cli(['sim', 'stop']);
      expect(stop.exitCode).toBe(0);
      expect(stop.stdout + stop.stderr).toContain('not running');
      expect(isProcessAlive(stranger.pid ?? 0)).toBe(true);
      expect(existsSync(state)).toBe(false);
    } finally {
      stranger.kill('SIGKILL');
      await stranger;
    }
  });

  it('starts, says so, and a second start finds it running', async () => {
    const first = await cli(['sim', 'start', '--nodes', '2']);
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toContain('embedded cluster');
    expect(first.stdout).toContain(`kubectl --kubeconfig ${path.join(home, 'sim', 'kubeconfig')}`);
    const second = await cli(['sim', 'start']);
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toContain('already running');
  });

  it('prints a private kubeconfig like kind does', async () => {
    const r = await cli(['sim', 'kubeconfig']);
    expect(r.exitCode).toBe(0);
    const config = parse(r.stdout) as {
      'current-context': string;
      clusters: { cluster: { server: string } }[];
      users: { user: { token: string } }[];
    };
    expect(config['current-context']).toBe('replica-demo-sim');
    expect(config.clusters[0]?.cluster.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(config.users[0]?.user.token).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(path.join(home, 'sim', 'kubeconfig')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(home, 'sim', 'state.json')).mode & 0o777).toBe(0o600);
    const status = await cli(['sim', 'status']);
    expect(status.exitCode).toBe(0);
    const json = await cli(['sim', 'status', '--json']);
    expect(json.exitCode).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      running: true,
      nodes: 2,
      context: 'replica-demo-sim',
      server: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/) as unknown,
    });
    expect(status.stdout).toMatch(/running \(pid \d+, https:\/\/127\.0\.0\.1:\d+, 2 node\(s\)/);
  });

  it('stops, and the daemon is gone', async () => {
    const state = JSON.parse(readFileSync(path.join(home, 'sim', 'state.json'), 'utf8')) as {
      pid: number;
    };
    const r = await cli(['sim', 'stop']);
    expect(r.exitCode).toBe(0);
    // It has exited; collecting the exited process is its new parent's business, moments later.
    for (let i = 0; i < 100 && isProcessAlive(state.pid); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(isProcessAlive(state.pid)).toBe(false);
    expect(existsSync(path.join(home, 'sim', 'state.json'))).toBe(false);
    const again = await cli(['sim', 'stop']);
    expect(again.stdout).toContain('not running');
  });
});

describe('two starts at once', () => {
  it('make one daemon', async () => {
    const other = mkdtempSync(path.join(os.tmpdir(), 'replica-demo-sim-race-'));
    try {
      const [a, b] = await Promise.all([
        startSim({ home: other, nodes: 1 }),
        startSim({ home: other, nodes: 1 }),
      ]);
      expect([a.started, b.started].sort()).toEqual([false, true]);
      expect(a.pid).toBe(b.pid);
    } finally {
      await stopSim(other);
      rmSync(other, { recursive: true, force: true });
    }
  });
});

await requireKubectl();

describe('when the daemon dies', () => {
  it('its pod processes die with it', async () => {
    const sim = await startTestSim({ nodes: 2, seed: 'daemon-death' });
    try {
      const manifests = fileURLToPath(new URL('../manifests/', import.meta.url));
      const applied = await sim.kubectl(['apply', '--server-side', '-f', manifests]);
      expect(applied.exitCode).toBe(0);
      const servers = await eventually(
        () => {
          const found = sim.children().filter((p) => p.args.includes('server/main.js'));
          return Promise.resolve(found.length === 5 ? found : undefined);
        },
        60_000,
        'five server processes',
      );
      process.kill(sim.pid, 'SIGKILL');
      await eventually(
        () => Promise.resolve(servers.every((p) => !isProcessAlive(p.pid)) ? true : undefined),
        10_000,
        'the pod processes to end',
      );
    } finally {
      const left = await sim.stop();
      expect(left).toEqual([]);
    }
  }, 90_000);
});
