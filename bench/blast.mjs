#!/usr/bin/env node
// Wall time of `replica-demo blast --via service` on the embedded cluster for N = 20, 200,
// 2000, side by side with the floor (the same N requests sent by this machine's curl straight
// at the Service's address) and, at N = 20, with the original lesson's way (one pod per
// request: N Jobs of one request each, one after another). Prints medians, then one blast
// at the largest --count accepted, which must end with 0 errors.
//
//   npm run build && node bench/blast.mjs [--runs 3]
import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'replica-demo.js');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 3;
const COUNTS = [20, 200, 2000];
// The same 2000 with ten transfers at a time inside the one curl (still one pod).
const PARALLEL = { n: 2000, p: 10 };
const ORIGINAL_N = 20;

const home = mkdtempSync(path.join(os.tmpdir(), 'replica-demo-bench-'));
const env = {
  ...process.env,
  REPLICA_DEMO_HOME: home,
  REPLICA_DEMO_SIM_SEED: 'bench',
  NO_COLOR: '1',
  CI: 'true',
  KUBECONFIG: path.join(home, 'sim', 'kubeconfig'),
};

/** @param {string[]} args */
const cli = (args) =>
  execa(process.execPath, [bin, ...args], { env, cwd: root, reject: false, stdin: 'ignore' });
/** @param {number[]} values */
const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? Number(s[m]) : (Number(s[m - 1]) + Number(s[m])) / 2;
};
/** @param {number} ms */
const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;

/**
 * @template T
 * @param {() => Promise<T>} fn
 */
async function timed(fn) {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

try {
  const up = await cli(['up', '--sim']);
  if (up.exitCode !== 0) throw new Error(`up --sim failed: ${up.stderr}`);

  const kc = new k8s.KubeConfig();
  kc.loadFromFile(env.KUBECONFIG);
  kc.setCurrentContext('replica-demo-sim');
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const svc = await core.readNamespacedService({
    name: 'web-server-service',
    namespace: 'multi-replica-web',
  });
  const clusterIP = svc.spec?.clusterIP;
  const port = svc.spec?.ports?.[0]?.port;
  if (clusterIP === undefined || port === undefined) {
    throw new Error('web-server-service has no cluster IP or port');
  }

  // The floor: the Job's own curl arguments, run here, aimed at the Service's address.
  /** @param {number} n */
  const floor = async (n) => {
    const r = await execa(
      'curl',
      [
        '-sS',
        '--no-progress-meter',
        '-o',
        '/dev/null',
        '-H',
        'Connection: close',
        '--connect-to',
        `web-server-service:80:${clusterIP}:${port}`,
        '-w',
        '%{http_code} %{time_total} %header{x-pod-name}\\n',
        `http://web-server-service/?n=[1-${n}]`,
      ],
      { reject: false },
    );
    const ok = r.stdout.split('\n').filter((l) => l.startsWith('200 ')).length;
    if (ok !== n)
      throw new Error(
        `floor: ${ok}/${n} answered (is ${clusterIP}:${port} reachable? ${r.stderr.split('\n')[0]})`,
      );
  };

  /** @param {number} n */
  const blast = async (n, parallel = 1) => {
    const r = await cli([
      'blast',
      '--via',
      'service',
      '--count',
      String(n),
      '--parallel',
      String(parallel),
      '--json',
    ]);
    if (r.exitCode !== 0) throw new Error(`blast --count ${n} failed: ${r.stderr}`);
    return JSON.parse(r.stdout).service.podsCreated;
  };

  const rows = [];
  for (const n of COUNTS) {
    const blastMs = [];
    const floorMs = [];
    const pods = [];
    for (let i = 0; i < RUNS; i += 1) {
      const b = await timed(() => blast(n));
      blastMs.push(b.ms);
      pods.push(b.value);
      floorMs.push((await timed(() => floor(n))).ms);
    }
    rows.push({ n, blast: median(blastMs), floor: median(floorMs), pods: median(pods) });
  }

  {
    const ms = [];
    const pods = [];
    for (let i = 0; i < RUNS; i += 1) {
      const b = await timed(() => blast(PARALLEL.n, PARALLEL.p));
      ms.push(b.ms);
      pods.push(b.value);
    }
    rows.push({
      n: PARALLEL.n,
      label: `${PARALLEL.n} -P ${PARALLEL.p}`,
      blast: median(ms),
      floor: undefined,
      pods: median(pods),
    });
  }

  const originalMs = [];
  for (let i = 0; i < RUNS; i += 1) {
    originalMs.push(
      (
        await timed(async () => {
          for (let j = 0; j < ORIGINAL_N; j += 1) await blast(1);
        })
      ).ms,
    );
  }

  // The largest blast the CLI accepts, once: it must finish with every request answered.
  const help = (await cli(['blast', '--help'])).stdout;
  const max = Number(/--count <n>\s+number of requests \(1\.\.(\d+)\)/.exec(help)?.[1]);
  if (!Number.isInteger(max)) throw new Error(`no --count range in blast --help:\n${help}`);
  const maxRun = await timed(async () => {
    const r = await cli(['blast', '--via', 'service', '--count', String(max), '--json']);
    const value = JSON.parse(r.stdout || 'null');
    return { exitCode: r.exitCode, total: value?.service?.total, errors: value?.service?.errors };
  });

  console.log(
    `replica-demo blast on the embedded cluster, median of ${RUNS} runs (${os.cpus().length} CPUs, Node ${process.version})`,
  );
  console.log('');
  console.log(
    'N            blast --via service   floor (curl at the Service)   pods per blast   original way (N Jobs x 1 request)',
  );
  for (const r of rows) {
    const original =
      r.n === ORIGINAL_N ? `${seconds(median(originalMs))} (${ORIGINAL_N} pods)` : '-';
    console.log(
      `${String(r.label ?? r.n).padEnd(13)}${seconds(r.blast).padEnd(22)}${(r.floor === undefined ? '-' : seconds(r.floor)).padEnd(30)}${String(r.pods).padEnd(17)}${original}`,
    );
  }
  console.log('');
  console.log(
    `blast --count ${max} (the maximum), once: ${seconds(maxRun.ms)}, exit ${maxRun.value.exitCode}, ${maxRun.value.total} requests, ${maxRun.value.errors} errors`,
  );
} finally {
  await cli(['sim', 'stop']);
  rmSync(home, { recursive: true, force: true });
}
