import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import https from 'node:https';
import { fileURLToPath } from 'node:url';
import { EmbeddedClusterError } from './errors.js';
import { SIM_CONTEXT, simPaths, type SimState } from '../sim/kubeconfig.js';

/** Starting, stopping and inspecting the embedded cluster's daemon from the CLI side. */

export interface StartOptions {
  home: string;
  nodes?: number;
  seed?: string;
  env?: NodeJS.ProcessEnv;
  /** Milliseconds to wait for the API to answer. */
  timeoutMs?: number;
}

export interface StartResult {
  kubeconfigPath: string;
  context: string;
  started: boolean;
  port: number;
  pid: number;
}

export interface SimStatusInfo {
  running: boolean;
  pid?: number;
  port?: number;
  server?: string;
  startedAt?: string;
  nodes?: number;
  kubeconfigPath: string;
  logPath: string;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether `pid` is this home's daemon, not merely some process: a pid in a state file can
 * outlive the daemon and be reused by an unrelated process, which must never be signalled.
 * Where /proc is missing, liveness is all that can be checked.
 */
export function isDaemonOf(pid: number, home: string): boolean {
  if (!isProcessAlive(pid)) return false;
  let cmdline: string;
  let stat: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return !existsSync('/proc/self');
  }
  // A zombie has exited; only its parent has not collected it yet.
  if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
  const args = cmdline.split('\0');
  const homeAt = args.indexOf('--home');
  return (
    args.some((a) => a.endsWith(`${path.sep}daemon.js`)) &&
    homeAt >= 0 &&
    path.resolve(args[homeAt + 1] ?? '') === path.resolve(home)
  );
}

function readState(home: string): SimState | undefined {
  try {
    const parsed = JSON.parse(readFileSync(simPaths(home).state, 'utf8')) as Partial<SimState>;
    if (
      typeof parsed.pid !== 'number' ||
      typeof parsed.port !== 'number' ||
      typeof parsed.token !== 'string'
    )
      return undefined;
    return parsed as SimState;
  } catch {
    return undefined;
  }
}

function clearState(home: string): void {
  const paths = simPaths(home);
  rmSync(paths.state, { force: true });
  rmSync(paths.kubeconfig, { force: true });
}

/** The daemon's state when its process is alive; a stale state (process gone) is removed. */
function liveState(home: string): SimState | undefined {
  const state = readState(home);
  if (!state) return undefined;
  if (isDaemonOf(state.pid, home)) return state;
  clearState(home);
  return undefined;
}

export function isSimRunning(home: string): boolean {
  return liveState(home) !== undefined;
}

function daemonEntry(): string {
  const sibling = fileURLToPath(new URL('../sim/daemon.js', import.meta.url));
  if (existsSync(sibling)) return sibling;
  // Running from the TypeScript sources (tests): the daemon is the compiled one.
  const built = fileURLToPath(new URL('../../dist/sim/daemon.js', import.meta.url));
  if (existsSync(built)) return built;
  throw new EmbeddedClusterError(
    `The embedded cluster daemon is not built (${built} is missing).`,
    'Run `npm run build` first.',
  );
}

function ready(port: number, token: string, ca: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = https.get(
      {
        host: '127.0.0.1',
        port,
        path: '/readyz',
        ca,
        headers: { Authorization: `Bearer ${token}` },
        timeout: 1000,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}

function lastLines(file: string, count: number): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-count).join(' | ');
  } catch {
    return '';
  }
}

/**
 * The daemon's heap: it keeps little alive (objects, a watch history, pod logs; under 30 MB
 * after 15,000 writes) but makes much short-lived garbage, which V8's defaults let grow to
 * 150 MB of memory before collecting. A small young generation and an old-generation ceiling
 * far above what it keeps hold it under 100 MB.
 */
const DAEMON_HEAP = ['--max-semi-space-size=1', '--max-old-space-size=96'];

/**
 * One start at a time per home: two concurrent starts would each spawn a daemon and the
 * loser would keep running unseen. The lock file holds the starter's pid, so a lock left
 * by a starter that died is taken over.
 */
async function withStartLock<T>(home: string, run: () => Promise<T>): Promise<T> {
  const dir = simPaths(home).dir;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const lock = path.join(dir, 'start.lock');
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(lock, 'utf8').trim() || 'NaN');
      if (!Number.isInteger(owner) || !isProcessAlive(owner)) {
        rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline)
        throw new EmbeddedClusterError(
          `Another start of the embedded cluster (pid ${owner}) holds ${lock}.`,
          'Wait for it, or remove the file if that process is not replica-demo.',
        );
      await sleep(50);
    }
  }
  try {
    return await run();
  } finally {
    rmSync(lock, { force: true });
  }
}

export function startSim(options: StartOptions): Promise<StartResult> {
  return withStartLock(options.home, () => startUnlocked(options));
}

async function startUnlocked(options: StartOptions): Promise<StartResult> {
  const paths = simPaths(options.home);
  const running = liveState(options.home);
  if (running)
    return {
      kubeconfigPath: paths.kubeconfig,
      context: SIM_CONTEXT,
      started: false,
      port: running.port,
      pid: running.pid,
    };
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  const entry = daemonEntry();
  const env: NodeJS.ProcessEnv = { ...(options.env ?? process.env) };
  if (options.seed !== undefined) env.REPLICA_DEMO_SIM_SEED = options.seed;
  const logFd = openSync(paths.log, 'a', 0o600);
  let exitCode: number | null | undefined;
  let child;
  try {
    child = spawn(
      process.execPath,
      [...DAEMON_HEAP, entry, '--home', options.home, '--nodes', String(options.nodes ?? 3)],
      {
        detached: true,
        stdio: ['ignore', logFd, logFd],
        env,
      },
    );
  } finally {
    closeSync(logFd);
  }
  child.on('exit', (code) => {
    exitCode = code;
  });
  child.unref();
  const pid = child.pid;
  if (pid === undefined)
    throw new EmbeddedClusterError(
      'The embedded cluster daemon could not be started.',
      `See ${paths.log}.`,
    );
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      throw new EmbeddedClusterError(
        `The embedded cluster daemon exited during start (code ${String(exitCode)}): ${lastLines(paths.log, 3)}`,
        `See ${paths.log}.`,
      );
    }
    const state = readState(options.home);
    if (state && state.pid === pid && (await ready(state.port, state.token, state.ca))) {
      return {
        kubeconfigPath: paths.kubeconfig,
        context: SIM_CONTEXT,
        started: true,
        port: state.port,
        pid,
      };
    }
    await sleep(20);
  }
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
  throw new EmbeddedClusterError(
    'The embedded cluster did not answer within the start timeout.',
    `See ${paths.log}.`,
  );
}

/** Stops the daemon (it stops every pod process first). False when it was not running. */
// Longer than the daemon's own shutdown limit (45 s), so its cleanup always gets to run.
export async function stopSim(home: string, timeoutMs = 55_000): Promise<boolean> {
  const state = liveState(home);
  if (!state) return false;
  try {
    process.kill(state.pid, 'SIGTERM');
  } catch {
    clearState(home);
    return true;
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && isDaemonOf(state.pid, home)) await sleep(25);
  if (isDaemonOf(state.pid, home)) {
    // Last resort: the daemon leads its own process group.
    for (const target of [-state.pid, state.pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    const killDeadline = Date.now() + 5000;
    while (Date.now() < killDeadline && isDaemonOf(state.pid, home)) await sleep(25);
  }
  clearState(home);
  return true;
}

export function simStatus(home: string): SimStatusInfo {
  const paths = simPaths(home);
  const state = liveState(home);
  if (!state) return { running: false, kubeconfigPath: paths.kubeconfig, logPath: paths.log };
  return {
    running: true,
    pid: state.pid,
    port: state.port,
    server: state.server,
    startedAt: state.startedAt,
    nodes: state.nodes,
    kubeconfigPath: paths.kubeconfig,
    logPath: paths.log,
  };
}

export function simKubeconfigText(home: string): string {
  if (!liveState(home))
    throw new EmbeddedClusterError(
      'The embedded cluster is not running.',
      'Run `replica-demo sim start` first.',
    );
  return readFileSync(simPaths(home).kubeconfig, 'utf8');
}
