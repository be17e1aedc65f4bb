/**
 * The package as npm publishes it (`npm pack`), installed into an empty prefix the way a user
 * installs it (`npm install -g`), and run from there, away from the checkout: the lesson on the
 * embedded cluster, and the server image built from the installed files alone. Nothing here
 * reads the checkout except to pack it.
 */
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importNodeRuntime } from '../scripts/node-base-image.mjs';
import { descendantsOf, freeLoopbackPort, getWhenUp } from './helpers/docker.js';
import { imageInputs, imageTag } from '../src/cli/core/image-tag.js';
import { dockerBuildArgs } from '../src/cli/tools/docker.js';
import { requireKubectl } from './helpers/sim.js';

await requireKubectl();

const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const version = (
  JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string }
).version;
const runId = randomBytes(4).toString('hex');

const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'replica-demo-package-')));
const prefix = path.join(dir, 'prefix');
const home = path.join(dir, 'replica-demo-home');
const installed = path.join(prefix, 'lib', 'node_modules', 'replica-demo');
const bin = path.join(prefix, 'bin', 'replica-demo');
let packed: string[] = [];

async function dockerAnswers(): Promise<boolean> {
  const result = await execa('docker', ['info', '--format', '{{.ServerVersion}}'], {
    reject: false,
    timeout: 20_000,
  });
  return result.exitCode === 0;
}
const engineUp = await dockerAnswers();

/** The installed command, run from the temp folder with a home of its own. */
async function cli(args: string[], timeout = 120_000) {
  const r = await execa(bin, args, {
    cwd: dir,
    reject: false,
    extendEnv: false,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      // Nothing may read or write the person's kubeconfig: point the default at nothing.
      KUBECONFIG: path.join(dir, 'no-kubeconfig'),
      REPLICA_DEMO_HOME: home,
      NO_COLOR: '1',
    },
    stdin: 'ignore',
    timeout,
  });
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** The command lines of a process and of every process below it, read from /proc. */
function commandLines(root: number): string[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone while reading
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i += 1) {
    for (const [pid, ppid] of parents) if (ppid === tree[i]) tree.push(pid);
  }
  return tree.flatMap((pid) => {
    try {
      return [readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim()];
    } catch {
      return [];
    }
  });
}

beforeAll(async () => {
  // Scripts off: the suite's global setup has built dist/, and a prepack build now would
  // rewrite it under the other test files running from it.
  const pack = await execa(
    'npm',
    ['pack', '--ignore-scripts', '--json', '--pack-destination', dir],
    { cwd: projectRoot, timeout: 120_000 },
  );
  const [result] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
  if (result === undefined) throw new Error(`npm pack printed no result: ${pack.stdout}`);
  packed = result.files.map((file) => file.path);
  await execa(
    'npm',
    [
      'install',
      '--global',
      '--prefix',
      prefix,
      path.join(dir, result.filename),
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--no-update-notifier',
    ],
    { cwd: dir, timeout: 600_000 },
  );
}, 900_000);

afterAll(async () => {
  // Whatever happened above, leave no embedded cluster behind.
  if (existsSync(bin)) await cli(['sim', 'stop']);
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe('the packed package', () => {
  it('holds the CLI, the embedded cluster, the manifests and what builds the image, and no more', () => {
    for (const needed of [
      'bin/replica-demo.js',
      'dist/cli/main.js',
      'dist/sim/daemon.js',
      'dist/server/main.js',
      'dist/dashboard/index.html',
      'dist/dashboard/app.js',
      'src/sim/openapi/apps_v1.json.gz',
      'src/sim/api/protobuf-schema.json',
      'manifests/10-deployment.yaml',
      'manifests/kind/kind-cluster.yaml',
      'Dockerfile',
      '.dockerignore',
      'src/server/image/package-lock.json',
    ]) {
      expect(packed, needed).toContain(needed);
    }
    const extra = packed.filter(
      (file) =>
        /^(test|bench|scripts|\.ci|node_modules)\//.test(file) ||
        // Sources stay out; the real API server's OpenAPI documents, which the embedded
        // cluster serves, and the protobuf layout it decodes kubectl's bodies with, are data
        // it reads at run time.
        (/^src\/(cli|sim|common)\//.test(file) &&
          !/^src\/sim\/openapi\/[\w.]+\.json\.gz$/.test(file) &&
          file !== 'src/sim/api/protobuf-schema.json') ||
        file.endsWith('.map') ||
        file === 'package-lock.json',
    );
    expect(extra).toEqual([]);
  });

  it('holds every file the server image is built from, so it gets the checkout’s image tag', async () => {
    const inputs = await imageInputs(projectRoot);
    expect(inputs).toContain('Dockerfile');
    expect(inputs.filter((file) => !packed.includes(file))).toEqual([]);
    expect(await imageTag(installed)).toBe(await imageTag(projectRoot));
  });
});

describe('installed with npm install -g into an empty prefix', () => {
  let pods: string[] = [];

  it('runs as replica-demo from the prefix, without the checkout’s sources or dev tools', async () => {
    const r = await cli(['--version']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(version);
    expect(realpathSync(bin)).toBe(path.join(installed, 'bin', 'replica-demo.js'));
    expect(existsSync(path.join(installed, 'src', 'cli'))).toBe(false);
    for (const devTool of ['vitest', 'eslint', 'typescript', 'knip']) {
      expect(existsSync(path.join(installed, 'node_modules', devTool)), devTool).toBe(false);
    }
    expect(existsSync(path.join(installed, 'node_modules', 'express'))).toBe(true);
  });

  it('up --sim starts the installed embedded cluster and reaches 5/5 ready', async () => {
    const r = await cli(['up', '--sim', '--json'], 240_000);
    expect(r.code, r.stderr).toBe(0);
    const up = JSON.parse(r.stdout) as { ready: number; pods: { name: string }[] };
    expect(up.ready).toBe(5);
    pods = up.pods.map((pod) => pod.name);
    expect(pods).toHaveLength(5);
    // The daemon and the replicas run from the prefix, not from any checkout.
    const state = JSON.parse(readFileSync(path.join(home, 'sim', 'state.json'), 'utf8')) as {
      pid: number;
    };
    const lines = commandLines(state.pid);
    expect(lines[0]).toContain(path.join(installed, 'dist', 'sim', 'daemon.js'));
    const servers = lines.filter((line) => line.includes('server/main.js'));
    expect(servers).toHaveLength(5);
    for (const line of servers) {
      expect(line).toContain(path.join(installed, 'dist', 'server', 'main.js'));
    }
  }, 300_000);

  it('blast spreads 20 requests over the replicas, every one answered', async () => {
    const r = await cli(['blast', '--count', '20', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const blast = JSON.parse(r.stdout) as {
      service: { total: number; errors: number; pods: { pod: string; count: number }[] };
    };
    expect(blast.service.total).toBe(20);
    expect(blast.service.errors).toBe(0);
    expect(blast.service.pods.reduce((sum, pod) => sum + pod.count, 0)).toBe(20);
    for (const pod of blast.service.pods) expect(pods).toContain(pod.pod);
  }, 180_000);

  it('kill-pod deletes a replica and times its replacement', async () => {
    const r = await cli(['kill-pod', '--grace', '1', '--json'], 180_000);
    expect(r.code, r.stderr).toBe(0);
    const kill = JSON.parse(r.stdout) as { killed: string; replacement: string };
    expect(pods).toContain(kill.killed);
    expect(pods).not.toContain(kill.replacement);
  }, 240_000);

  it('dashboard serves its page and script from the installed files', async () => {
    const port = await freeLoopbackPort();
    const child = execa(bin, ['dashboard', '--port', String(port)], {
      cwd: dir,
      reject: false,
      extendEnv: false,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: dir,
        KUBECONFIG: path.join(dir, 'no-kubeconfig'),
        REPLICA_DEMO_HOME: home,
        NO_COLOR: '1',
      },
      stdin: 'ignore',
      timeout: 120_000,
    });
    try {
      const page = await getWhenUp(`http://127.0.0.1:${port}/`, 30_000);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<script src="/app.js">');
      const script = await fetch(`http://127.0.0.1:${port}/app.js`);
      expect(script.status).toBe(200);
      expect((await script.text()).length).toBeGreaterThan(1000);
    } finally {
      child.kill('SIGINT');
    }
    const ended = await child;
    expect(ended.exitCode, String(ended.stderr)).toBe(0);
    expect(String(ended.stdout)).toMatch(new RegExp(`http://127\\.0\\.0\\.1:${port}/\\?token=`));
  }, 180_000);

  it('down --sim removes the lesson and stops the embedded cluster', async () => {
    const r = await cli(['down', '--sim', '--yes', '--json'], 180_000);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ deletedNamespace: true, stoppedSim: true });
    const status = await cli(['sim', 'status', '--json']);
    expect(status.code).toBe(13);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: false });
  }, 240_000);
});

describe.skipIf(!engineUp)(
  engineUp
    ? 'the server image, built from the installed package'
    : 'the server image, built from the installed package (skipped: no Docker engine answers `docker info`)',
  () => {
    const baseTag = `replica-demo-test-package-base:${runId}`;
    const image = `replica-demo-test-package-server:${runId}`;
    const container = `replica-demo-test-package-server-${runId}`;
    let baseId = '';

    beforeAll(async () => {
      await importNodeRuntime(baseTag);
      baseId = (await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', baseTag])).stdout;
    }, 600_000);

    afterAll(async () => {
      await execa('docker', ['rm', '--force', container], { reject: false });
      await execa('docker', ['rmi', image], { reject: false });
      if (baseId !== '') {
        for (const id of await descendantsOf(baseId.trim())) {
          await execa('docker', ['rmi', id], { reject: false });
        }
        await execa('docker', ['rmi', baseTag], { reject: false });
      }
    }, 120_000);

    it('builds with the command `up` runs, from the installed files alone, and answers', async () => {
      // `up` builds with dockerBuildArgs on the package's own folder. Host networking lets the
      // build reach the npm registry on an engine that cannot route its bridge network.
      const [command = 'build', ...rest] = dockerBuildArgs(
        image,
        installed,
        path.join(installed, 'Dockerfile'),
        baseTag,
      );
      await execa('docker', [command, '--network', 'host', '--force-rm', ...rest], {
        cwd: dir,
        timeout: 900_000,
      });
      const port = await freeLoopbackPort();
      await execa('docker', [
        'run',
        '--detach',
        '--name',
        container,
        '--read-only',
        '--cap-drop',
        'ALL',
        '--user',
        '10001:10001',
        '--network',
        'host',
        '--env',
        'POD_NAME=web-server-deployment-abc12-pkg9k',
        '--env',
        'HOST=127.0.0.1',
        '--env',
        `PORT=${port}`,
        image,
      ]);
      const response = await getWhenUp(`http://127.0.0.1:${port}/info`, 30_000);
      expect(response.status).toBe(200);
      const info = (await response.json()) as Record<string, unknown>;
      expect(info.pod_name).toBe('web-server-deployment-abc12-pkg9k');
      expect(info.replica_id).toBe('pkg9k');
      // The image's package.json is the server's own, at the project's version.
      expect(info.app_version).toBe(version);
    }, 960_000);
  },
);
