import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { cases, compare, readFixtures, runEmbedded, runReal, writeFixtures } from './suite.js';
import type { Case, Outcome } from './runner.js';
import { captureOpenApi } from './openapi.js';

/**
 * `npm run fidelity`: the embedded cluster against the recorded answers of a real one.
 * `npm run fidelity -- --record --context kind-kind`: records those answers afresh.
 * `--only <text>`: the cases whose name holds the text (recording then keeps the others).
 */

const { values } = parseArgs({
  options: {
    record: { type: 'boolean', default: false },
    context: { type: 'string' },
    only: { type: 'string' },
    quiet: { type: 'boolean', default: false },
  },
});

const chosen = values.only ? cases.filter((c) => c.name.includes(values.only ?? '')) : cases;
const progress = (c: Case, o: Outcome) => {
  if (!values.quiet) process.stderr.write(`  ${c.name}: exit ${o.exitCode}\n`);
};

async function versions(context: string): Promise<{ server: string; kubectl: string }> {
  const r = await execa('kubectl', ['--context', context, 'version', '-o', 'json'], {
    reject: false,
  });
  const doc = JSON.parse(String(r.stdout) || '{}') as {
    clientVersion?: { gitVersion?: string };
    serverVersion?: { gitVersion?: string };
  };
  return {
    server: doc.serverVersion?.gitVersion ?? 'unknown',
    kubectl: doc.clientVersion?.gitVersion ?? 'unknown',
  };
}

async function record(context: string): Promise<void> {
  const v = await versions(context);
  process.stderr.write(
    `recording ${chosen.length} cases on ${context} (${v.server}, kubectl ${v.kubectl})\n`,
  );
  const answers = await runReal(context, chosen, progress);
  const previous = values.only ? readFixtures().answers : {};
  writeFixtures({ ...v, answers: { ...previous, ...answers } });
  const schemas = await captureOpenApi(context);
  process.stdout.write(
    `recorded: ${Object.keys(answers).length} cases, ${schemas.length} OpenAPI documents\n`,
  );
}

async function check(): Promise<void> {
  const fixtures = readFixtures();
  process.stderr.write(
    `running ${chosen.length} cases on a new embedded cluster, against ${fixtures.server}'s answers\n`,
  );
  const embedded = await runEmbedded(chosen, progress);
  const result = compare(chosen, fixtures.answers, embedded);
  for (const d of result.differ)
    process.stdout.write(`\n=== ${d.name} (- real, + embedded)\n${d.diff}\n`);
  process.stdout.write(`\nsame: ${result.same.length} of ${chosen.length}\n`);
}

if (values.record) {
  if (!values.context) {
    process.stderr.write('--record needs --context <a real cluster>\n');
    process.exit(2);
  }
  await record(values.context);
} else {
  await check();
}
