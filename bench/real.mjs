#!/usr/bin/env node
// Figures of the lesson on a real kind cluster (the one `npm run cluster:kind` makes), all in
// one run, medians of --runs:
//   - warm cluster creation: a second cluster made from the cached node image, then deleted
//   - `up` cold (image neither built nor on the nodes) and warm (nothing to do but apply)
//   - `blast --via service` wall time for N = 20, 200, 2000
//   - the original lesson's way at N = 20: one `kubectl run --rm -i` curl pod per request
//   - `kill-pod` recovery seconds (median of 5 kills)
//   - the latency the Service adds over a direct pod connection, measured from inside the
//     cluster: one curl alternating between the Service and each pod's own address
//
//   npm run build && node bench/real.mjs [--runs 3] [--skip-create]
//
// As root (the warm creation runs scripts/kind/cluster.sh, which needs root).
// It changes only what it makes: the lesson's namespace (removed at the end), a cluster named
// replica-demo-bench (deleted), and the server image it builds.
import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { kindToolEnv } from '../scripts/kind/env.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'replica-demo.js');
const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    'skip-create': { type: 'boolean', default: false },
  },
});
const RUNS = Number(args.runs);
const NAMESPACE = 'multi-replica-web';
const CLUSTER = process.env.KIND_CLUSTER_NAME ?? 'kind';
const CONTEXT = `kind-${CLUSTER}`;
const CURL_IMAGE = 'curlimages/curl:8.11.1';

const home = mkdtempSync(path.join(os.tmpdir(), 'replica-demo-real-bench-'));
const env = {
  ...process.env,
  ...kindToolEnv(),
  REPLICA_DEMO_HOME: home,
  NO_COLOR: '1',
  CI: 'true',
};
/** @typedef {{ cwd?: string, stdin?: 'ignore', env?: NodeJS.ProcessEnv }} RunOptions */
/**
 * @param {string} file
 * @param {string[]} argv
 * @param {RunOptions} [options]
 */
const sh = (file, argv, options = {}) => execa(file, argv, { env, reject: false, ...options });
/** @param {string[]} argv */
const cli = (argv) => sh(process.execPath, [bin, ...argv], { cwd: root, stdin: 'ignore' });
/**
 * @param {string[]} argv
 * @param {RunOptions} [options]
 */
const kubectl = (argv, options) => sh('kubectl', ['--context', CONTEXT, ...argv], options);

/** @param {number[]} values */
const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? Number(s[m]) : (Number(s[m - 1]) + Number(s[m])) / 2;
};
/** @param {number} ms */
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
/**
 * @template T
 * @param {() => Promise<T>} fn
 */
async function timed(fn) {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}
/**
 * @template {{ exitCode?: number, stderr: string }} R
 * @param {R} result
 * @param {string} what
 */
function must(result, what) {
  if (result.exitCode !== 0) {
    throw new Error(`${what} failed (exit ${result.exitCode}): ${result.stderr.slice(-600)}`);
  }
  return result;
}

/**
 * `kubectl run NAME --image=curl -- ARGS`, with the security context the namespace's
 * `restricted` Pod Security level asks for (the original lesson's plain `kubectl run` is
 * refused there).
 */
/**
 * @param {string} name
 * @param {string[]} args
 */
const curlPod = (name, args, { attach = true } = {}) =>
  kubectl([
    'run',
    name,
    '-n',
    NAMESPACE,
    ...(attach ? ['--rm', '-i', '--quiet'] : []),
    `--image=${CURL_IMAGE}`,
    '--restart=Never',
    // Strategic: containers merge by name, so the image and args kubectl run set are kept.
    '--override-type=strategic',
    `--overrides=${JSON.stringify({
      apiVersion: 'v1',
      spec: {
        securityContext: {
          runAsNonRoot: true,
          runAsUser: 100,
          seccompProfile: { type: 'RuntimeDefault' },
        },
        containers: [
          {
            name,
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          },
        ],
      },
    })}`,
    '--',
    ...args,
  ]);

async function serverImage() {
  const r = await kubectl([
    'get',
    'deployment',
    'web-server-deployment',
    '-n',
    NAMESPACE,
    '-o',
    'jsonpath={.spec.template.spec.containers[0].image}',
  ]);
  return r.stdout.trim();
}

/** @param {string} image */
async function forgetServerImage(image) {
  await sh('docker', ['rmi', image]);
  const nodes = (await sh('kind', ['get', 'nodes', '--name', CLUSTER])).stdout.split('\n');
  for (const node of nodes.filter(Boolean)) {
    await sh('docker', ['exec', node, 'crictl', 'rmi', `docker.io/library/${image}`]);
  }
}

/** @type {[string, string][]} */
const figures = [];
let blast20 = 0;
try {
  must(await kubectl(['get', '--raw', '/readyz']), `the kind cluster ${CLUSTER}`);
  const version = JSON.parse((await kubectl(['version', '-o', 'json'])).stdout);
  console.log(
    `real kind cluster "${CLUSTER}" (Kubernetes ${version.serverVersion.gitVersion}, kubectl ${version.clientVersion.gitVersion}), ${os.cpus().length} CPUs, median of ${RUNS} runs`,
  );
  await cli(['down', '--yes', '--cluster', CLUSTER]);

  // Warm cluster creation: everything is cached, so this is kind's own work.
  if (!args['skip-create']) {
    const benchKubeconfig = path.join(home, 'bench-cluster.kubeconfig');
    // Anything not built yet is built first, untimed: this figure is the creation alone.
    must(await sh('bash', [path.join(root, 'scripts/kind/cluster.sh'), 'build']), 'cluster build');
    const createMs = [];
    for (let i = 0; i < RUNS; i += 1) {
      const r = await timed(() =>
        sh('bash', [path.join(root, 'scripts/kind/cluster.sh'), 'create'], {
          // Its own kubeconfig, so the user's current context is left as it was.
          env: { ...env, KIND_CLUSTER_NAME: 'replica-demo-bench', KUBECONFIG: benchKubeconfig },
        }),
      );
      must(r.value, 'cluster creation');
      createMs.push(r.ms);
      must(
        await sh('kind', ['delete', 'cluster', '--name', 'replica-demo-bench'], {
          env: { ...env, KUBECONFIG: benchKubeconfig },
        }),
        'cluster deletion',
      );
    }
    figures.push([
      'warm cluster create (cached node image, 3 nodes, all Ready)',
      secs(median(createMs)),
    ]);
  }

  // up, cold then warm.
  const coldMs = [];
  const warmMs = [];
  for (let i = 0; i < RUNS; i += 1) {
    const first = await timed(() => cli(['up', '--cluster', CLUSTER]));
    must(first.value, 'up');
    const image = await serverImage();
    must(await cli(['down', '--yes']), 'down');
    await forgetServerImage(image);
    const cold = await timed(() => cli(['up', '--cluster', CLUSTER]));
    must(cold.value, 'cold up');
    coldMs.push(cold.ms);
    const warm = await timed(() => cli(['up', '--cluster', CLUSTER]));
    must(warm.value, 'warm up');
    warmMs.push(warm.ms);
    if (i < RUNS - 1) must(await cli(['down', '--yes']), 'down');
  }
  figures.push(['up, cold (docker build, kind load, apply, 5/5 ready)', secs(median(coldMs))]);
  figures.push(['up, warm (image built and loaded, lesson applied)', secs(median(warmMs))]);

  // Blasts through the Service.
  for (const n of [20, 200, 2000]) {
    const ms = [];
    for (let i = 0; i < RUNS; i += 1) {
      const r = await timed(() =>
        cli(['blast', '--via', 'service', '--count', String(n), '--json', '--timeout', '600']),
      );
      must(r.value, `blast --count ${n}`);
      const result = JSON.parse(r.value.stdout);
      if (result.service.total !== n || result.service.errors !== 0) {
        throw new Error(
          `blast --count ${n}: ${result.service.total} answered, ${result.service.errors} errors`,
        );
      }
      ms.push(r.ms);
    }
    figures.push([`blast --via service --count ${n}`, secs(median(ms))]);
    if (n === 20) blast20 = median(ms);
  }

  // The original lesson's way: one curl pod per request, one after another.
  {
    const ms = [];
    let lost = 0;
    for (let i = 0; i < RUNS; i += 1) {
      const r = await timed(async () => {
        for (let j = 1; j <= 20; j += 1) {
          const r = must(
            await curlPod(`curl-test-${j}`, ['curl', '-s', 'http://web-server-service/']),
            `kubectl run curl-test-${j}`,
          );
          // kubectl attaches after the container starts, and a fast curl can finish first:
          // its answer is then lost, as it is to a learner running the original loop.
          if (!r.stdout.includes('"pod_name"')) lost += 1;
        }
      });
      ms.push(r.ms);
    }
    const original = median(ms);
    figures.push([
      'original lesson, 20 x `kubectl run --rm -i curl` (20 pods)',
      `${secs(original)}; ${lost} of ${20 * RUNS} answers lost by kubectl's attach`,
    ]);
    figures.push([
      'blast --count 20 vs the original way',
      `${(original / blast20).toFixed(1)}x faster (1 pod instead of 20)`,
    ]);
  }

  // kill-pod recovery, five kills.
  {
    const recovery = [];
    for (let i = 0; i < 5; i += 1) {
      const r = must(await cli(['kill-pod', '--json']), 'kill-pod');
      recovery.push(JSON.parse(r.stdout).recoverySeconds);
    }
    figures.push([
      'kill-pod: back to 5/5 ready (median of 5)',
      `${median(recovery).toFixed(1)} s (${recovery.map((s) => s.toFixed(1)).join(', ')})`,
    ]);
  }

  // Service vs direct: one curl alternating between the Service and the pods' own addresses.
  {
    const ips = (
      await kubectl([
        'get',
        'pods',
        '-n',
        NAMESPACE,
        '-l',
        'app=web-server',
        '-o',
        'jsonpath={.items[*].status.podIP}',
      ])
    ).stdout
      .split(' ')
      .filter(Boolean);
    /** @type {string[]} */
    const urls = [];
    // Each URL gets its own `-o /dev/null`: curl pairs output options with URLs in order.
    for (let i = 0; i < 400; i += 1) {
      urls.push('-o', '/dev/null', `http://web-server-service/?via=service&n=${i}`);
      urls.push('-o', '/dev/null', `http://${ips[i % ips.length]}:8080/?via=direct&n=${i}`);
    }
    // Not attached (`run -i` can miss the first lines of a fast pod): run, wait, read the log.
    const pod = 'replica-demo-latency';
    must(
      await curlPod(
        pod,
        [
          'curl',
          '-sS',
          '-H',
          'Connection: close',
          '-w',
          '%{url_effective} %{time_total}\\n',
          ...urls,
        ],
        { attach: false },
      ),
      'latency pod',
    );
    must(
      await kubectl([
        'wait',
        '-n',
        NAMESPACE,
        `pod/${pod}`,
        '--for=jsonpath={.status.phase}=Succeeded',
        '--timeout=300s',
      ]),
      'latency pod to finish',
    );
    const r = must(await kubectl(['logs', '-n', NAMESPACE, pod]), 'latency pod log');
    await kubectl(['delete', 'pod', '-n', NAMESPACE, pod, '--wait=false']);
    /** @type {{ service: number[], direct: number[] }} */
    const times = { service: [], direct: [] };
    for (const line of r.stdout.split('\n')) {
      const match = /via=(service|direct).* ([\d.]+)$/.exec(line.trim());
      if (match) times[match[1] === 'service' ? 'service' : 'direct'].push(Number(match[2]) * 1000);
    }
    const service = median(times.service);
    const direct = median(times.direct);
    figures.push([
      `Service over direct pod connection, median per new connection (${times.service.length} each)`,
      `${service >= direct ? '+' : '-'}${Math.abs(service - direct).toFixed(2)} ms (${service.toFixed(2)} vs ${direct.toFixed(2)} ms)`,
    ]);
  }
} finally {
  await cli(['down', '--yes']);
  if (!args['skip-create']) {
    await sh('kind', ['delete', 'cluster', '--name', 'replica-demo-bench'], {
      env: { ...env, KUBECONFIG: path.join(home, 'bench-cluster.kubeconfig') },
    });
  }
  rmSync(home, { recursive: true, force: true });
}

console.log('');
const width = Math.max(...figures.map(([name]) => name.length));
for (const [name, value] of figures) console.log(`${name.padEnd(width)}  ${value}`);
