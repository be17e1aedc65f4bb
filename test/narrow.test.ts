import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { visibleWidth } from '../src/cli/render/text.js';
import { startLab, type Lab } from './blast-support.js';
import { runMain, screenLines } from './helpers/in-process.js';

/**
 * Every command run in a terminal 60 and 80 columns wide, on the embedded cluster: no line
 * it draws, on stdout or stderr (spinners and bars included), is wider than the terminal.
 */

let lab: Lab;

beforeAll(async () => {
  lab = await startLab('narrow-tests');
  const up = await lab.run(['up', '--sim'], 240_000);
  expect(up.exitCode, up.stderr).toBe(0);
}, 300_000);

afterAll(async () => {
  await lab?.close();
}, 120_000);

const commands = [
  ['up', '--sim'],
  ['blast', '--count', '300', '--via', 'both'],
  ['kill-pod', '--grace', '1'],
  ['kill-pod', '--under-load'],
  ['sim', 'status'],
  ['status'],
  ['logs', '--since', '10m'],
];

describe.each([60, 80])('at %i columns', (columns) => {
  it.each(commands.map((args) => [args.join(' '), args] as const))('%s fits', async (_, args) => {
    // A terminal, not a CI log: spinners, bars and colour are drawn.
    const env = { ...lab.env, CI: undefined, NO_COLOR: undefined };
    const run = await runMain([...args], env, { columns });
    expect(run.code, run.stderr).toBe(0);
    const lines = [...screenLines(run.stdout), ...screenLines(run.stderr)];
    expect(lines.filter((l) => l.trim() !== '').length).toBeGreaterThan(2);
    const tooWide = lines.filter((l) => visibleWidth(l) > columns);
    expect(tooWide).toEqual([]);
  });
});
