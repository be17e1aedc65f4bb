// `replica-demo up --sim` wall time, side by side in one run:
//   cold: from a stopped embedded cluster (start + apply + wait until ready + table)
//   warm: the second run right after (nothing to change; target under 2 s)
// Each round uses a fresh tool home and ends with `down --sim --yes`. Medians over rounds.
// Usage: npm run build && node bench/up.mjs [--rounds 3]
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
const ROUNDS = Number(values.rounds);
const cli = fileURLToPath(new URL('../bin/replica-demo.js', import.meta.url));

/** @param {number[]} xs */
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? Number(s[m]) : (Number(s[m - 1]) + Number(s[m])) / 2;
};

/**
 * @param {string[]} args
 * @param {NodeJS.ProcessEnv} env
 * @returns {Promise<{ ms: number, stderr: string }>}
 */
function run(args, env) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    execFile(
      process.execPath,
      [cli, ...args],
      { env, timeout: 180_000 },
      (error, _stdout, stderr) => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        if (error)
          reject(
            new Error(`replica-demo ${args.join(' ')} failed: ${stderr.trim().split('\n').at(-1)}`),
          );
        else resolve({ ms, stderr });
      },
    );
  });
}

const cold = [];
const warm = [];
for (let round = 1; round <= ROUNDS; round += 1) {
  const home = mkdtempSync(path.join(os.tmpdir(), 'replica-demo-bench-up-'));
  const env = { ...process.env, REPLICA_DEMO_HOME: home, NO_COLOR: '1' };
  try {
    const first = await run(['up', '--sim'], env);
    const second = await run(['up', '--sim'], env);
    if (!second.stderr.includes('Nothing changed'))
      throw new Error('the warm run changed something');
    cold.push(first.ms);
    warm.push(second.ms);
    process.stderr.write(
      `round ${round}: cold ${first.ms.toFixed(0)} ms, warm ${second.ms.toFixed(0)} ms\n`,
    );
  } finally {
    await run(['down', '--sim', '--yes'], env).catch((error) =>
      process.stderr.write(`${error.message}\n`),
    );
    rmSync(home, { recursive: true, force: true });
  }
}

/**
 * @param {string} name
 * @param {number[]} xs
 * @param {string} [target]
 */
const row = (name, xs, target) =>
  `${name.padEnd(34)} ${`${median(xs).toFixed(0)} ms`.padStart(9)}   min ${Math.min(...xs).toFixed(0)} ms   max ${Math.max(...xs).toFixed(0)} ms${target ? `   ${target}` : ''}`;
console.log(
  `up --sim, ${ROUNDS} round(s), medians (node ${process.version}, ${os.cpus().length} CPUs)`,
);
console.log(row('cold (stopped embedded cluster)', cold));
console.log(
  row(
    'warm (second run, nothing to do)',
    warm,
    `target < 2000 ms: ${median(warm) < 2000 ? 'met' : 'MISSED'}`,
  ),
);
