import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { startSim, stopSim } from '../../src/cli/sim-control.js';

/**
 * A real embedded-cluster daemon in a temp home for one test file: started through the same
 * control code the CLI uses, with a fixed seed, and stopped in afterAll. Every process the
 * daemon starts is recorded while the test runs, so `stop()` can prove none is left.
 */

export interface KubectlResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface TestSim {
  home: string;
  kubeconfigPath: string;
  pid: number;
  port: number;
  kubectl(args: string[], options?: { input?: string; timeoutMs?: number }): Promise<KubectlResult>;
  /** Processes started by the daemon (directly or below it) that run now, with their command lines. */
  children(): { pid: number; args: string }[];
  /** Stops the daemon; resolves to the processes it started that are still alive (should be none). */
  stop(): Promise<{ pid: number; args: string }[]>;
}

interface ProcInfo {
  pid: number;
  ppid: number;
  start: string;
  args: string;
}

function readProcs(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces and parentheses: fields start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      out.push({ pid: Number(entry), ppid: Number(fields[1]), start: fields[19] ?? '', args });
    } catch {
      // exited while reading
    }
  }
  return out;
}

function descendants(root: number, procs: ProcInfo[]): ProcInfo[] {
  const byParent = new Map<number, ProcInfo[]>();
  for (const p of procs) byParent.set(p.ppid, [...(byParent.get(p.ppid) ?? []), p]);
  const found: ProcInfo[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const next = queue.shift() as number;
    for (const child of byParent.get(next) ?? []) {
      found.push(child);
      queue.push(child.pid);
    }
  }
  return found;
}

/**
 * kubectl, which the lesson's tests run as a learner would. It is on every machine these tests
 * run on (and installed in CI), so its absence fails the file that needs it, saying why,
 * rather than quietly skipping what it tests.
 */
export async function requireKubectl(): Promise<void> {
  const r = await execa('kubectl', ['version', '--client'], { reject: false, timeout: 20_000 });
  if (r.exitCode !== 0) {
    throw new Error(
      `these tests run kubectl, and \`kubectl version --client\` failed (${r.shortMessage}); install kubectl (1.32 here) and put it on PATH`,
    );
  }
}

export async function startTestSim(
  options: { nodes?: number; seed?: string } = {},
): Promise<TestSim> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'replica-demo-sim-test-'));
  const env = { ...process.env, REPLICA_DEMO_HOME: home };
  const started = await startSim({
    home,
    nodes: options.nodes ?? 3,
    seed: options.seed ?? 'test-seed',
    env,
  });
  const seen = new Map<string, ProcInfo>();
  const record = () => {
    for (const p of descendants(started.pid, readProcs())) seen.set(`${p.pid}:${p.start}`, p);
  };
  const timer = setInterval(record, 100);
  timer.unref();
  const kubectl = async (args: string[], opts: { input?: string; timeoutMs?: number } = {}) => {
    const result = await execa('kubectl', ['--kubeconfig', started.kubeconfigPath, ...args], {
      reject: false,
      timeout: opts.timeoutMs ?? 60_000,
      ...(opts.input === undefined ? {} : { input: opts.input }),
      env: { HOME: home, PATH: process.env.PATH ?? '' },
      extendEnv: false,
    });
    return {
      stdout: String(result.stdout),
      stderr: String(result.stderr),
      exitCode: result.exitCode ?? -1,
    };
  };
  return {
    home,
    kubeconfigPath: started.kubeconfigPath,
    pid: started.pid,
    port: started.port,
    kubectl,
    children: () =>
      descendants(started.pid, readProcs()).map((p) => ({ pid: p.pid, args: p.args })),
    stop: async () => {
      record();
      clearInterval(timer);
      await stopSim(home);
      const deadline = Date.now() + 5000;
      let alive: ProcInfo[] = [];
      do {
        const now = new Map(readProcs().map((p) => [`${p.pid}:${p.start}`, p]));
        alive = [...seen.keys()].filter((k) => now.has(k)).map((k) => now.get(k) as ProcInfo);
        if (alive.length === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      } while (Date.now() < deadline);
      rmSync(home, { recursive: true, force: true });
      return alive.map((p) => ({ pid: p.pid, args: p.args }));
    },
  };
}

/** Poll `check` until it returns a value (not undefined) or the time is up. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`,
  );
}
