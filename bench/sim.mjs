// Figures for the embedded cluster, measured side by side in one run:
//   1. `sim start` until the API answers (median of several starts)
//   2. `kubectl apply --server-side -f manifests/` until 5/5 replicas are Ready
//   3. added latency of the Service proxy over a direct pod connection (median per new
//      connection, alternating service and direct)
//   4. daemon RSS with 5 replicas running (the daemon process alone)
//   5. daemon RSS after 15,000 writes (merge patches of a 2 KB ConfigMap, 8 in flight)
// Usage: npm run bench:sim [-- --starts 5 --connections 200]
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

// The build runs here; its types are the sources' (dist/ has no declarations).
/** @type {typeof import('../src/cli/sim-control.js')} */
const { startSim, stopSim } = await import(
  new URL('../dist/cli/sim-control.js', import.meta.url).href
);

const { values } = parseArgs({
  options: {
    starts: { type: 'string', default: '5' },
    connections: { type: 'string', default: '200' },
    writes: { type: 'string', default: '15000' },
  },
});
const WRITES = Number(values.writes);
const STARTS = Number(values.starts);
const CONNECTIONS = Number(values.connections);
const manifests = fileURLToPath(new URL('../manifests/', import.meta.url));

/** @param {number[]} xs */
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? Number(s[m]) : (Number(s[m - 1]) + Number(s[m])) / 2;
};
/** @param {number} n */
const ms = (n) => `${n.toFixed(n < 10 ? 3 : 0)} ms`;

/**
 * HOME points into the bench's temp home so kubectl's discovery cache lands there too.
 * @param {string} kubeconfig
 * @param {string} home
 * @param {string[]} args
 * @returns {Promise<string>}
 */
function kubectl(kubeconfig, home, args) {
  return new Promise((resolve, reject) => {
    execFile(
      'kubectl',
      ['--kubeconfig', kubeconfig, ...args],
      { timeout: 60_000, env: { HOME: home, PATH: process.env.PATH ?? '' } },
      (err, stdout, stderr) =>
        err
          ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr || err.message}`))
          : resolve(stdout),
    );
  });
}

/**
 * A GET on the embedded cluster's API; the parsed JSON body.
 * @param {{ port: number, ca: string, token: string }} state
 * @param {string} urlPath
 * @returns {Promise<any>}
 */
function apiGet(state, urlPath) {
  return new Promise((resolve, reject) => {
    https
      .get(
        {
          host: '127.0.0.1',
          port: state.port,
          path: urlPath,
          ca: state.ca,
          headers: { Authorization: `Bearer ${state.token}` },
        },
        (res) => {
          let body = '';
          res.on('error', (e) => reject(new Error(`GET ${urlPath}: ${e.message}`)));
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve(JSON.parse(body)));
        },
      )
      .on('error', (e) => reject(new Error(`GET ${urlPath}: ${e.message}`)));
  });
}

/**
 * A write to the embedded cluster's API, on a kept-alive connection; fails on a non-2xx.
 * @param {{ port: number, ca: string, token: string }} state
 * @param {string} method
 * @param {string} urlPath
 * @param {string} type
 * @param {unknown} body
 * @returns {Promise<void>}
 */
function apiSend(state, method, urlPath, type, body) {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: state.port,
        method,
        path: urlPath,
        ca: state.ca,
        agent: keepAlive,
        headers: { Authorization: `Bearer ${state.token}`, 'Content-Type': type },
      },
      (res) => {
        res.on('error', (e) => reject(new Error(`${method} ${urlPath}: ${e.message}`)));
        res.resume();
        res.on('end', () =>
          (res.statusCode ?? 0) < 300
            ? resolve()
            : reject(new Error(`${method} ${urlPath}: ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
const keepAlive = new https.Agent({ keepAlive: true, maxSockets: 8 });

/**
 * One new connection: connect, GET /health, read the whole answer, close. Milliseconds.
 * @param {string} host
 * @param {number} port
 * @returns {Promise<number>}
 */
function oneRequest(host, port) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const socket = net.connect({ host, port });
    let got = '';
    socket.on('connect', () =>
      socket.write(`GET /health HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`),
    );
    socket.on('data', (c) => (got += c));
    socket.on('end', () => {
      if (!got.startsWith('HTTP/1.1 200'))
        reject(new Error(`unexpected answer from ${host}:${port}: ${got.slice(0, 40)}`));
      else resolve(Number(process.hrtime.bigint() - t0) / 1e6);
    });
    socket.on('error', (e) => reject(new Error(`connection to ${host}:${port}: ${e.message}`)));
  });
}

/** @type {string[]} */
const homes = [];
const tempHome = () => {
  const h = mkdtempSync(path.join(os.tmpdir(), 'replica-demo-bench-'));
  homes.push(h);
  return h;
};

try {
  // 1. start until the API answers
  const startTimes = [];
  for (let i = 0; i < STARTS; i += 1) {
    const home = tempHome();
    const t0 = performance.now();
    await startSim({ home, nodes: 3, seed: 'bench' });
    startTimes.push(performance.now() - t0);
    await stopSim(home);
  }

  // 2. apply until 5/5 ready
  const home = tempHome();
  const started = await startSim({ home, nodes: 3, seed: 'bench' });
  const state = JSON.parse(readFileSync(path.join(home, 'sim', 'state.json'), 'utf8'));
  const t0 = performance.now();
  await kubectl(started.kubeconfigPath, home, ['apply', '--server-side', '-f', manifests]);
  let deploy;
  const deadline = Date.now() + 60_000;
  do {
    deploy = await apiGet(
      state,
      '/apis/apps/v1/namespaces/multi-replica-web/deployments/web-server-deployment',
    );
    if ((deploy.status?.readyReplicas ?? 0) >= 5 && (deploy.status?.updatedReplicas ?? 0) >= 5)
      break;
    await new Promise((r) => setTimeout(r, 20));
  } while (Date.now() < deadline);
  const applyMs = performance.now() - t0;
  const ready = deploy.status?.readyReplicas ?? 0;

  // 3. Service proxy vs direct, alternating, new connection each time
  const svc = await apiGet(
    state,
    '/api/v1/namespaces/multi-replica-web/services/web-server-service',
  );
  const pods = await apiGet(
    state,
    '/api/v1/namespaces/multi-replica-web/pods?labelSelector=app%3Dweb-server',
  );
  const podIp = pods.items.find(
    (/** @type {any} */ p) => p.status?.podIP && !p.metadata.deletionTimestamp,
  )?.status.podIP;
  const clusterIp = svc.spec.clusterIP;
  const direct = [];
  const viaService = [];
  for (let i = 0; i < 20; i += 1) {
    await oneRequest(podIp, 8080);
    await oneRequest(clusterIp, 80);
  }
  for (let i = 0; i < CONNECTIONS; i += 1) {
    direct.push(await oneRequest(podIp, 8080));
    viaService.push(await oneRequest(clusterIp, 80));
  }

  // 4. daemon RSS
  const rss = () =>
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${started.pid}/status`, 'utf8'))?.[1] ?? 0);
  const rssKb = rss();

  // 5. after many writes
  const configMaps = '/api/v1/namespaces/multi-replica-web/configmaps';
  await apiSend(state, 'POST', configMaps, 'application/json', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'bench-writes' },
    data: {},
  });
  let peakKb = 0;
  for (let i = 0; i < WRITES; i += 8) {
    await Promise.all(
      Array.from({ length: 8 }, (_, k) =>
        apiSend(state, 'PATCH', `${configMaps}/bench-writes`, 'application/merge-patch+json', {
          data: { i: String(i + k), pad: 'x'.repeat(2000) },
        }),
      ),
    );
    if (i % 1000 === 0) peakKb = Math.max(peakKb, rss());
  }
  const afterWritesKb = rss();
  peakKb = Math.max(peakKb, afterWritesKb);
  await stopSim(home);

  /** @type {[string, string, string, string][]} */
  const rows = [
    [
      'sim start until the API answers (median)',
      ms(median(startTimes)),
      '< 1000 ms',
      `${STARTS} starts`,
    ],
    ['apply manifests until 5/5 Ready', ms(applyMs), '< 5000 ms', `${ready}/5 ready`],
    [
      'direct to pod, per new connection (median)',
      ms(median(direct)),
      '',
      `${CONNECTIONS} connections`,
    ],
    [
      'via Service proxy, per new connection (median)',
      ms(median(viaService)),
      '',
      `${CONNECTIONS} connections`,
    ],
    [
      'added latency of the Service proxy',
      ms(median(viaService) - median(direct)),
      '< 1 ms',
      'median difference',
    ],
    [
      'daemon RSS with 5 replicas running',
      `${(rssKb / 1024).toFixed(1)} MB`,
      '< 100 MB',
      `pid ${started.pid}`,
    ],
    [
      `daemon RSS after ${WRITES} writes`,
      `${(afterWritesKb / 1024).toFixed(1)} MB`,
      '< 100 MB',
      `peak ${(peakKb / 1024).toFixed(1)} MB (sampled every 1000 writes)`,
    ],
  ];
  /** @param {0 | 1 | 2} c */
  const width = (c) => Math.max(...rows.map((r) => r[c].length));
  console.log(`embedded cluster figures (node ${process.version}, ${os.cpus().length} cpus)`);
  for (const r of rows)
    console.log(
      `${r[0].padEnd(width(0))}  ${r[1].padStart(width(1))}  ${r[2].padEnd(width(2))}  ${r[3]}`,
    );
} finally {
  for (const h of homes) {
    await stopSim(h).catch(() => undefined);
    rmSync(h, { recursive: true, force: true });
  }
}
