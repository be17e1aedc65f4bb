import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSim, stopSim } from '../../src/cli/sim-control.js';
import { readCases } from './cases-read.js';
import { writeCases } from './cases-write.js';
import { runCases, type Case, type Outcome } from './runner.js';
import { setUp, tearDown, type Target } from './target.js';
import { normalise } from './normalise.js';

/**
 * The differential suite: every case against the real cluster (recorded, normalised, as
 * fixtures) and against the embedded cluster, compared.
 */

export const cases: Case[] = [...readCases, ...writeCases];

export const FIXTURES = fileURLToPath(new URL('../fixtures/fidelity/', import.meta.url));
const ANSWERS = path.join(FIXTURES, 'real.json');

export interface Recorded {
  /** The real cluster's server version and the kubectl that asked. */
  server: string;
  kubectl: string;
  answers: Record<string, Outcome>;
}

export function readFixtures(): Recorded {
  if (!existsSync(ANSWERS))
    throw new Error(
      `no recorded answers at ${ANSWERS}: run \`npm run fidelity -- --record --context <ctx>\``,
    );
  return JSON.parse(readFileSync(ANSWERS, 'utf8')) as Recorded;
}

export function writeFixtures(recorded: Recorded): void {
  mkdirSync(FIXTURES, { recursive: true });
  writeFileSync(ANSWERS, `${JSON.stringify(recorded, null, 2)}\n`);
}

const kubectlEnv = (home: string): NodeJS.ProcessEnv => ({
  HOME: home,
  PATH: process.env.PATH ?? '',
});

/** Runs `chosen` against a cluster reached through `base`, in a namespace made and removed here. */
export async function runOn(
  target: Target,
  chosen: Case[],
  onCase?: (c: Case, o: Outcome) => void,
): Promise<Record<string, Outcome>> {
  await setUp(target);
  try {
    return await runCases(target, chosen, onCase);
  } finally {
    await tearDown(target, false);
  }
}

export async function runReal(
  context: string,
  chosen: Case[],
  onCase?: (c: Case, o: Outcome) => void,
): Promise<Record<string, Outcome>> {
  const home = process.env.HOME ?? os.homedir();
  return runOn({ base: ['--context', context], env: kubectlEnv(home) }, chosen, onCase);
}

/** A fresh embedded cluster in a temp home, for this run only. */
export async function runEmbedded(
  chosen: Case[],
  onCase?: (c: Case, o: Outcome) => void,
): Promise<Record<string, Outcome>> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'replica-demo-fidelity-'));
  const env = { ...process.env, REPLICA_DEMO_HOME: home };
  try {
    const sim = await startSim({ home, nodes: 3, seed: 'fidelity', env });
    return await runOn(
      { base: ['--kubeconfig', sim.kubeconfigPath], env: kubectlEnv(home) },
      chosen,
      onCase,
    );
  } finally {
    await stopSim(home);
    rmSync(home, { recursive: true, force: true });
  }
}

export interface Comparison {
  same: string[];
  differ: { name: string; diff: string }[];
}

// Normalised again, so that a rule added since the answers were recorded applies to them.
const show = (o: Outcome | undefined): string[] =>
  o === undefined
    ? ['(not recorded)']
    : [
        `exit ${o.exitCode}`,
        ...normalise(o.stdout)
          .split('\n')
          .map((l) => `out: ${l}`),
        ...(o.stderr
          ? normalise(o.stderr)
              .split('\n')
              .map((l) => `err: ${l}`)
          : []),
      ];

/** A line diff (longest common subsequence): `-` the real cluster, `+` the embedded one. */
export function lineDiff(real: string[], embedded: string[]): string {
  const m = real.length;
  const k = embedded.length;
  const table: number[][] = Array.from({ length: m + 1 }, () => new Array<number>(k + 1).fill(0));
  for (let i = m - 1; i >= 0; i -= 1)
    for (let j = k - 1; j >= 0; j -= 1)
      table[i]![j] =
        real[i] === embedded[j]
          ? table[i + 1]![j + 1]! + 1
          : Math.max(table[i + 1]![j]!, table[i]![j + 1]!);
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < m || j < k) {
    if (i < m && j < k && real[i] === embedded[j]) {
      out.push(`  ${real[i]}`);
      i += 1;
      j += 1;
    } else if (j < k && (i === m || table[i]![j + 1]! >= table[i + 1]![j]!)) {
      out.push(`+ ${embedded[j]}`);
      j += 1;
    } else {
      out.push(`- ${real[i]}`);
      i += 1;
    }
  }
  return out.join('\n');
}

export function compare(
  chosen: Case[],
  real: Record<string, Outcome>,
  embedded: Record<string, Outcome>,
): Comparison {
  const result: Comparison = { same: [], differ: [] };
  for (const c of chosen) {
    const a = show(real[c.name]);
    const b = show(embedded[c.name]);
    if (a.join('\n') === b.join('\n')) result.same.push(c.name);
    else result.differ.push({ name: c.name, diff: lineDiff(a, b) });
  }
  return result;
}
