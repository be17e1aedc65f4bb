// CLI start-up cost: `replica-demo --help` side by side with `node -e 0`, alternating so
// both see the same machine load. Target: --help at most 3x node's own start-up.
// Usage: npm run build && node bench/startup.mjs [--runs 10]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
const RUNS = Number(values.runs);
const cli = fileURLToPath(new URL('../bin/replica-demo.js', import.meta.url));

/** @param {number[]} xs */
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? Number(s[m]) : (Number(s[m - 1]) + Number(s[m])) / 2;
};

/** @param {string[]} args */
function time(args) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (result.status !== 0)
    throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

// One of each first, unmeasured, so neither pays for a cold file cache.
time(['-e', '0']);
time([cli, '--help']);
const bare = [];
const help = [];
for (let i = 0; i < RUNS; i += 1) {
  bare.push(time(['-e', '0']));
  help.push(time([cli, '--help']));
}
const ratio = median(help) / median(bare);
console.log(`start-up, ${RUNS} alternating runs each, medians (node ${process.version})`);
console.log(`node -e 0                ${median(bare).toFixed(1).padStart(7)} ms`);
console.log(`replica-demo --help      ${median(help).toFixed(1).padStart(7)} ms`);
console.log(
  `ratio                    ${ratio.toFixed(2).padStart(7)} x   target <= 3x: ${ratio <= 3 ? 'met' : 'MISSED'}`,
);
