import * as k8s from '@kubernetes/client-node';
import { execa, type ResultPromise } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMain, type InProcessRun } from './helpers/in-process.js';
import { startTestSim } from './helpers/sim.js';

/** Runs the real CLI the way a user does, against an embedded cluster in a temp home. */

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = path.join(ROOT, 'bin', 'replica-demo.js');
export const NAMESPACE = 'multi-replica-web';

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Why the process ended when it did not exit by itself (a signal, a timeout). */
  ended?: string;
}

export interface Lab {
  home: string;
  kubeconfig: string;
  env: NodeJS.ProcessEnv;
  run(args: string[], timeoutMs?: number): Promise<CliResult>;
  /** The same command run in-process, for checks the process boundary adds nothing to. */
  runInProcess(args: string[]): Promise<InProcessRun>;
  /** The CLI as a child process; `stdin: 'pipe'` to type into it. */
  spawn(args: string[], stdin?: 'ignore' | 'pipe'): ResultPromise;
  clients(): { kc: k8s.KubeConfig; core: k8s.CoreV1Api; batch: k8s.BatchV1Api };
  /** Stops the embedded cluster; resolves to the processes it started that are still alive. */
  close(): Promise<string[]>;
}

/**
 * A temp home whose embedded cluster the CLI starts itself (`up --sim`, as on a fresh
 * machine): for the tour.
 */
export function makeLab(seed: string): Lab {
  const home = mkdtempSync(path.join(os.tmpdir(), 'replica-demo-test-'));
  return labIn(home, seed, async () => {
    await execa(process.execPath, [BIN, 'sim', 'stop'], {
      env: { ...process.env, REPLICA_DEMO_HOME: home },
      reject: false,
      timeout: 60_000,
    });
    rmSync(home, { recursive: true, force: true });
    return [];
  });
}

/**
 * An embedded cluster started by the shared test helper, which records every process the
 * daemon starts, so a test can prove that none outlives it.
 */
export async function startLab(seed: string): Promise<Lab> {
  const sim = await startTestSim({ seed });
  return labIn(sim.home, seed, async () => (await sim.stop()).map((p) => p.args));
}

function labIn(home: string, seed: string, stop: () => Promise<string[]>): Lab {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REPLICA_DEMO_HOME: home,
    REPLICA_DEMO_SIM_SEED: seed,
    NO_COLOR: '1',
    CI: 'true',
    // Never the user's kubeconfig: every call names the embedded cluster's own file.
    KUBECONFIG: path.join(home, 'sim', 'kubeconfig'),
  };
  const run = async (args: string[], timeoutMs = 240_000): Promise<CliResult> => {
    const result = await execa(process.execPath, [BIN, ...args], {
      env,
      cwd: ROOT,
      reject: false,
      timeout: timeoutMs,
      stdin: 'ignore',
    });
    const ended = result.timedOut ? `timed out after ${timeoutMs} ms` : result.signal;
    return {
      exitCode: result.exitCode ?? -1,
      stdout: String(result.stdout),
      stderr: String(result.stderr),
      ...(ended ? { ended } : {}),
    };
  };
  return {
    home,
    kubeconfig: path.join(home, 'sim', 'kubeconfig'),
    env,
    run,
    runInProcess: (args) => runMain(args, env),
    spawn: (args, stdin = 'ignore') =>
      execa(process.execPath, [BIN, ...args], { env, cwd: ROOT, reject: false, stdin }),
    clients: () => {
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(path.join(home, 'sim', 'kubeconfig'));
      kc.setCurrentContext('replica-demo-sim');
      return { kc, core: kc.makeApiClient(k8s.CoreV1Api), batch: kc.makeApiClient(k8s.BatchV1Api) };
    },
    close: stop,
  };
}

/**
 * The rows of the first table after the line starting with `heading` in blast's text output:
 * pod name and count.
 */
export function tableRows(stdout: string, heading: string): { pod: string; count: number }[] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => l.startsWith(heading));
  if (start < 0) throw new Error(`no line starts with ${JSON.stringify(heading)} in:\n${stdout}`);
  const rows: { pod: string; count: number }[] = [];
  for (const line of lines.slice(start + 2)) {
    const cells = line.trim().split(/\s+/);
    if (!cells[0]?.startsWith('web-server-deployment-')) break;
    rows.push({ pod: cells[0], count: Number(cells[3]) });
  }
  return rows;
}

/**
 * Counts the distinct Jobs and pods carrying `labelSelector` that appear while `during` runs,
 * and keeps the curl arguments of the Jobs' containers.
 */
export async function countPodsCreated<T>(
  kc: k8s.KubeConfig,
  labelSelector: string,
  during: () => Promise<T>,
): Promise<{ value: T; pods: Set<string>; jobs: Set<string>; jobArgs: string[][] }> {
  const pods = new Set<string>();
  const jobs = new Set<string>();
  const jobArgs: string[][] = [];
  const watch = new k8s.Watch(kc);
  const follow = (kind: string, into: Set<string>) =>
    watch.watch(
      kind,
      { labelSelector },
      (_type: string, object: k8s.V1Job | k8s.V1Pod) => {
        const uid = object.metadata?.uid;
        if (!uid) return;
        if (object.kind === 'Job' && !jobs.has(uid)) {
          const job = object as k8s.V1Job;
          jobArgs.push(job.spec?.template.spec?.containers[0]?.args ?? []);
        }
        into.add(uid);
      },
      () => undefined,
    );
  const controllers = await Promise.all([
    follow(`/api/v1/namespaces/${NAMESPACE}/pods`, pods),
    follow(`/apis/batch/v1/namespaces/${NAMESPACE}/jobs`, jobs),
  ]);
  try {
    const value = await during();
    // Let the last events of the blast arrive.
    await new Promise((r) => setTimeout(r, 300));
    return { value, pods, jobs, jobArgs };
  } finally {
    for (const controller of controllers) controller.abort();
  }
}

/** Resolves when a pod matching `labelSelector` satisfies `predicate`; rejects after `timeoutMs`. */
export async function waitForPod(
  kc: k8s.KubeConfig,
  labelSelector: string,
  predicate: (pod: k8s.V1Pod) => boolean,
  timeoutMs: number,
): Promise<k8s.V1Pod> {
  const watch = new k8s.Watch(kc);
  let controller: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<k8s.V1Pod>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no pod matched within ${timeoutMs} ms`)),
        timeoutMs,
      );
      watch
        .watch(
          `/api/v1/namespaces/${NAMESPACE}/pods`,
          { labelSelector },
          (_type: string, pod: k8s.V1Pod) => {
            if (predicate(pod)) resolve(pod);
          },
          () => undefined,
        )
        .then((c) => {
          controller = c;
        })
        .catch(reject);
    });
  } finally {
    clearTimeout(timer);
    controller?.abort();
  }
}
