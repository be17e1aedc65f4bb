import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from './helpers/in-process.js';

/**
 * `replica-demo completion bash|zsh`: the script is loaded into the real shell and its
 * function asked what to offer after the words typed so far.
 */

const dir = mkdtempSync(path.join(os.tmpdir(), 'replica-demo-completion-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const zshPresent = (await execa('zsh', ['-c', 'exit 0'], { reject: false })).exitCode === 0;

async function script(shell: string): Promise<string> {
  const run = await runMain(['completion', shell], {});
  expect(run.code).toBe(0);
  const file = path.join(dir, `completion.${shell}`);
  writeFileSync(file, run.stdout);
  return file;
}

/** What the shell's completion function offers after `words` (the last one being typed). */
async function offered(shell: 'bash' | 'zsh', file: string, words: string[]): Promise<string[]> {
  const program = [
    'source "$1"; shift',
    'COMP_WORDS=(replica-demo "$@")',
    'COMP_CWORD=$#',
    '_replica_demo',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const run = await execa(shell, ['-c', program, 'completion-test', file, ...words]);
  const all = run.stdout.split('\n').filter((w) => w !== '');
  // zsh hands the whole list to its own matcher, which keeps what starts with the word typed.
  const typed = words.at(-1) ?? '';
  return all.filter((w) => w.startsWith(typed)).sort();
}

const cases: Array<[string[], string[]]> = [
  [
    [''],
    ['blast', 'completion', 'dashboard', 'down', 'kill-pod', 'logs', 'sim', 'status', 'tour', 'up'],
  ],
  [['bl'], ['blast']],
  [['blast', '--v'], ['--via']],
  [
    ['blast', '--via', ''],
    ['both', 'port-forward', 'service'],
  ],
  [['blast', '--count', '20', '--k'], ['--keep-alive']],
  [['blast', '--count', ''], []],
  [['--no-color', 'blast', '--via', 'p'], ['port-forward']],
  [
    ['sim', 's'],
    ['start', 'status', 'stop'],
  ],
  [
    ['sim', 'start', '-'],
    ['--help', '--nodes', '-h'],
  ],
  [
    ['completion', ''],
    ['bash', 'zsh'],
  ],
  [['kill-pod', '--g'], ['--grace']],
];

describe('bash completion', () => {
  let file: string;
  beforeAll(async () => {
    file = await script('bash');
  });

  it.each(cases)('after %j offers %j', async (words, expected) => {
    expect(await offered('bash', file, words)).toEqual(expected);
  });

  it('offers every flag `blast --help` lists', async () => {
    const help = (await runMain(['blast', '--help'], {})).stdout;
    const listed = [...help.matchAll(/^\s+(?:(-\w), )?(--[\w-]+)/gm)].flatMap((m) =>
      [m[1], m[2]].filter((f): f is string => f !== undefined),
    );
    expect(listed.length).toBeGreaterThan(10);
    expect(await offered('bash', file, ['blast', '-'])).toEqual(expect.arrayContaining(listed));
  });
});

describe.skipIf(!zshPresent)('zsh completion (skipped: zsh is not installed)', () => {
  let file: string;
  beforeAll(async () => {
    file = await script('zsh');
  });

  it.each(cases)('after %j offers %j', async (words, expected) => {
    expect(await offered('zsh', file, words)).toEqual(expected);
  });
});

describe('the completion command', () => {
  it('refuses a shell it does not know, naming the ones it does (exit 2)', async () => {
    const run = await runMain(['completion', 'fish'], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/'fish' is invalid .*Allowed choices are bash, zsh/);
    expect(run.stdout).toBe('');
  });
});
