import { execa } from 'execa';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  mkdirSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMain } from '../helpers/in-process.js';

/**
 * Runs the real CLI (`node bin/replica-demo.js`) as a user would, with fake docker, kind and
 * kubectl as the only programs on PATH (besides node), recording every call they get; or
 * runs the same `main` inside the test process, with the same environment and fakes, where
 * the process boundary is not what a test is about.
 */

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const FAKES = path.join(ROOT, 'test', 'fakes', 'bin');
export const CLI = path.join(ROOT, 'bin', 'replica-demo.js');
const PTY_RUN = path.join(ROOT, 'test', 'fakes', 'pty-run.py');

export type FakeTool = 'docker' | 'kind' | 'kubectl';

export interface Call {
  tool: FakeTool;
  args: string[];
  stdin?: string;
}

export interface CliRun {
  /** The tool home (REPLICA_DEMO_HOME) the run used. */
  home: string;
  code: number;
  stdout: string;
  stderr: string;
  calls: Call[];
}

export interface Sandbox {
  dir: string;
  kubeconfig: string;
  /** Each run gets a fresh tool home unless one is given (to continue from a saved state). */
  run(
    args: string[],
    options?: {
      env?: Record<string, string>;
      tools?: FakeTool[];
      home?: string;
      /** Sends SIGINT (Ctrl-C) once stderr so far contains this text. */
      interruptOn?: string;
      /**
       * Runs the CLI on a pseudo-terminal (a person at a terminal) and types this answer
       * when `[y/N]` appears. Its stdout and stderr then arrive together, in `stdout`.
       */
      terminalAnswer?: string;
    },
  ): Promise<CliRun>;
  /**
   * The same run inside this process: `main` with this environment and captured streams. The
   * streams are no terminals, as in `run`.
   */
  runInProcess(
    args: string[],
    options?: { env?: Record<string, string>; home?: string },
  ): Promise<CliRun>;
  writeJson(name: string, value: unknown): string;
  cleanup(): void;
}

function readCalls(log: string): Call[] {
  return existsSync(log)
    ? readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Call)
    : [];
}

/**
 * A kubeconfig whose contexts all point at 127.0.0.1:1, where nothing listens: the API
 * step after the fakes' part fails at once with "connection refused", never reaching a
 * real cluster and never reading ~/.kube/config.
 */
function deadKubeconfig(contexts: string[]): string {
  const lines = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: dead',
    '  cluster:',
    '    server: https://127.0.0.1:1',
    '    insecure-skip-tls-verify: true',
    'users:',
    '- name: dead',
    '  user:',
    '    token: fake',
    'contexts:',
  ];
  for (const c of contexts)
    lines.push(`- name: ${c}`, '  context:', '    cluster: dead', '    user: dead');
  lines.push(`current-context: ${contexts[0] ?? ''}`);
  return `${lines.join('\n')}\n`;
}

export function sandbox(): Sandbox {
  if (!existsSync(path.join(ROOT, 'dist', 'cli', 'commands', 'up.js'))) {
    throw new Error('dist/ is missing: run `npx tsc -p tsconfig.build.json` before these tests');
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'replica-demo-fakes-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    deadKubeconfig(['kind-kind', 'kind-lesson', 'kind-other', 'prod-admin']),
  );
  let runs = 0;
  /** A fresh PATH folder holding node and the fakes, a call log, and a tool home. */
  const prepare = (tools: FakeTool[], givenHome: string | undefined) => {
    runs += 1;
    const bin = path.join(dir, `bin${runs}`);
    mkdirSync(bin);
    // node's own folder may hold the real docker or kubectl: link node alone instead.
    symlinkSync(process.execPath, path.join(bin, 'node'));
    for (const tool of tools) symlinkSync(path.join(FAKES, tool), path.join(bin, tool));
    const log = path.join(dir, `calls${runs}.jsonl`);
    const home = givenHome ?? path.join(dir, `home${runs}`);
    mkdirSync(home, { recursive: true });
    return { bin, log, home };
  };
  const baseEnv = (bin: string, home: string, log: string) => ({
    PATH: bin,
    HOME: dir,
    KUBECONFIG: kubeconfig,
    REPLICA_DEMO_HOME: home,
    NO_COLOR: '1',
    FAKE_LOG: log,
  });
  return {
    dir,
    kubeconfig,
    writeJson(name, value) {
      const file = path.join(dir, name);
      writeFileSync(file, JSON.stringify(value));
      return file;
    },
    async runInProcess(args, options = {}) {
      const { bin, log, home } = prepare(['docker', 'kind', 'kubectl'], options.home);
      const r = await runMain(args, { ...baseEnv(bin, home, log), ...options.env });
      return { home, ...r, calls: readCalls(log) };
    },
    async run(args, options = {}) {
      const { bin, log, home } = prepare(
        options.tools ?? ['docker', 'kind', 'kubectl'],
        options.home,
      );
      const [file, fileArgs] =
        options.terminalAnswer === undefined
          ? [process.execPath, [CLI, ...args]]
          : ['python3', [PTY_RUN, options.terminalAnswer, '[y/N]', process.execPath, CLI, ...args]];
      const subprocess = execa(file, fileArgs, {
        reject: false,
        extendEnv: false,
        stdin: 'ignore',
        env: {
          ...baseEnv(bin, home, log),
          // python3 (for the pseudo-terminal) is looked up before PATH is narrowed to the fakes.
          PATH: options.terminalAnswer === undefined ? bin : `${bin}:${process.env.PATH ?? ''}`,
          ...options.env,
        },
        timeout: 30_000,
      });
      if (options.interruptOn !== undefined) {
        const marker = options.interruptOn;
        let seen = '';
        subprocess.stderr.on('data', (chunk: Buffer) => {
          const before = seen.includes(marker);
          seen += chunk.toString();
          if (!before && seen.includes(marker)) subprocess.kill('SIGINT');
        });
      }
      const result = await subprocess;
      return {
        home,
        code: result.exitCode ?? -1,
        stdout: String(result.stdout),
        stderr: String(result.stderr),
        calls: readCalls(log),
      };
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `tool arg0 arg1` for each call, for readable order assertions. */
export function commandLines(calls: readonly Call[]): string[] {
  return calls.map((c) => [c.tool, ...c.args].join(' '));
}

/** Index of the first call whose command line starts with `prefix`; -1 when none. */
export function indexOfCall(calls: readonly Call[], prefix: string): number {
  return commandLines(calls).findIndex((l) => l.startsWith(prefix));
}
