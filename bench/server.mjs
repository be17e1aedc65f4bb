// Throughput of `GET /` with keep-alive: our server (dist/server/main.js) against a bare
// node:http server that returns the same JSON, loaded alternately with the same settings;
// then the resident memory of one idle replica. Beside req/s it prints the server's CPU time
// per request (from /proc): on a machine shared with other work, req/s follows whoever
// else is busy, while CPU per request stays a property of the server.
//
//   node bench/server.mjs [--rounds 3] [--duration 5] [--connections 50] [--tool wrk|autocannon]
//
// Run `npm run build` first (or `npm run bench:server`, which does).
import { spawn, execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import autocannon from 'autocannon';

const execFileAsync = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const serverEntry = fileURLToPath(new URL('../dist/server/main.js', import.meta.url));

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    tool: { type: 'string' },
  },
});
const rounds = Number(args.rounds);
const durationSeconds = Number(args.duration);
const connections = Number(args.connections);

const podEnv = {
  POD_NAME: 'web-server-deployment-6d4cf56db6-bench1',
  POD_IP: '10.244.1.7',
  NODE_NAME: 'replica-demo-worker',
  POD_NAMESPACE: 'multi-replica-web',
};

// The baseline: the same body (same keys, same identity, fresh timestamp) with nothing else.
const bareSource = `
import http from 'node:http';
import os from 'node:os';
const env = process.env;
const replicaId = env.POD_NAME.split('-').at(-1);
const server = http.createServer((req, res) => {
  const body = JSON.stringify({
    message: 'Hello from Replica ' + replicaId + '!',
    pod_name: env.POD_NAME,
    pod_ip: env.POD_IP,
    node_name: env.NODE_NAME,
    hostname: os.hostname(),
    replica_id: replicaId,
    timestamp: new Date().toISOString(),
  });
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
});
server.listen(Number(env.PORT), '127.0.0.1', () => process.stderr.write('listening ' + server.address().port + '\\n'));
process.on('SIGTERM', () => server.close(() => {}) && server.closeAllConnections());
`;

/** @typedef {'ours' | 'bare'} Kind */

/**
 * Starts a server process on a free loopback port; resolves once it accepts requests.
 * @param {Kind} kind
 */
async function startServer(kind) {
  const argv = kind === 'ours' ? [serverEntry] : ['--input-type=module', '-e', bareSource];
  const child = spawn(process.execPath, argv, {
    cwd: root,
    env: { ...process.env, ...podEnv, PORT: '0', HOST: '127.0.0.1' },
    // Our per-request log line is part of our cost; it goes where a quiet log would.
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${kind} server did not start: ${stderr}`)),
      10_000,
    );
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      const match = /(?:Listening on port |listening )(\d+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${kind} server exited with ${code}: ${stderr}`));
    });
  });
  return { child, url: `http://127.0.0.1:${port}/` };
}

/** @param {{ child: import('node:child_process').ChildProcess }} server */
async function stopServer({ child }) {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

async function hasWrk() {
  try {
    await execFileAsync('wrk', ['--version']).catch((error) => {
      // wrk prints its version and exits 1.
      if (!/wrk/.test(String(error.stdout) + String(error.stderr))) throw error;
    });
    return true;
  } catch {
    return false;
  }
}

/** @param {string} url */
async function loadWithWrk(url) {
  const { stdout } = await execFileAsync('wrk', [
    '-t1',
    `-c${connections}`,
    `-d${durationSeconds}s`,
    url,
  ]);
  const match = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  const total = /(\d+) requests in/.exec(stdout);
  const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(stdout);
  if (!match) throw new Error(`cannot read wrk output:\n${stdout}`);
  if (errors) throw new Error(`wrk saw errors:\n${stdout}`);
  return { rps: Number(match[1]), requests: Number(total?.[1]) };
}

/** @param {string} url */
async function loadWithAutocannon(url) {
  const result = await autocannon({ url, connections, duration: durationSeconds, pipelining: 1 });
  if (result.errors > 0 || result.non2xx > 0) {
    throw new Error(`autocannon saw ${result.errors} errors, ${result.non2xx} non-2xx`);
  }
  return { rps: result.requests.average, requests: result.requests.total };
}

/**
 * User plus system CPU time of a process so far, in milliseconds.
 * @param {number | undefined} pid
 */
async function cpuMs(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / clockTicksPerSecond;
}

/** @param {number[]} values */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? Number(sorted[middle])
    : (Number(sorted[middle - 1]) + Number(sorted[middle])) / 2;
}

async function idleRssMb() {
  const server = await startServer('ours');
  try {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const status = await readFile(`/proc/${server.child.pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
    return kb / 1024;
  } finally {
    await stopServer(server);
  }
}

const clockTicksPerSecond = Number((await execFileAsync('getconf', ['CLK_TCK'])).stdout.trim());
const tool = args.tool ?? ((await hasWrk()) ? 'wrk' : 'autocannon');
const load = tool === 'wrk' ? loadWithWrk : loadWithAutocannon;
console.log(
  `GET / keep-alive, ${tool}, ${connections} connections, ${durationSeconds} s x ${rounds} rounds each, alternating (node ${process.version})`,
);
/** @type {Record<Kind, number[]>} */
const samples = { ours: [], bare: [] };
/** @type {Record<Kind, number[]>} */
const cpuPerRequest = { ours: [], bare: [] };
const servers = { ours: await startServer('ours'), bare: await startServer('bare') };
try {
  // A short warm-up so both servers run optimised code before anything is counted.
  for (const kind of /** @type {const} */ (['ours', 'bare'])) {
    await autocannon({ url: servers[kind].url, connections: 10, duration: 1 });
  }
  for (let round = 1; round <= rounds; round += 1) {
    /** @type {Kind[]} */
    const order = round % 2 === 1 ? ['ours', 'bare'] : ['bare', 'ours'];
    for (const kind of order) {
      const pid = servers[kind].child.pid;
      const cpuBefore = await cpuMs(pid);
      const { rps, requests } = await load(servers[kind].url);
      const microseconds = (((await cpuMs(pid)) - cpuBefore) * 1000) / requests;
      samples[kind].push(rps);
      cpuPerRequest[kind].push(microseconds);
      console.log(
        `  round ${round} ${kind.padEnd(4)} ${rps.toFixed(0).padStart(7)} req/s  ${microseconds.toFixed(1).padStart(6)} us CPU/request`,
      );
    }
  }
} finally {
  await stopServer(servers.ours);
  await stopServer(servers.bare);
}
const ours = median(samples.ours);
const bare = median(samples.bare);
console.log(`median ours ${ours.toFixed(0)} req/s`);
console.log(`median bare ${bare.toFixed(0)} req/s`);
console.log(`ratio ours/bare ${((ours / bare) * 100).toFixed(1)}% (target >= 70%)`);
const oursCpu = median(cpuPerRequest.ours);
const bareCpu = median(cpuPerRequest.bare);
console.log(
  `median CPU per request: ours ${oursCpu.toFixed(1)} us, bare ${bareCpu.toFixed(1)} us; ` +
    `throughput per CPU, ours/bare ${((bareCpu / oursCpu) * 100).toFixed(1)}%`,
);
const rss = await idleRssMb();
console.log(`idle RSS of one replica ${rss.toFixed(1)} MB (target < 60 MB)`);
