import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/cli/errors.js';
import { planBlast, planKillPod } from '../src/cli/core/blast-plan.js';
import type { BlastFlags, KillPodFlags } from '../src/cli/core/flags.js';
import { parse, parseError } from './helpers/parse.js';

/** blast's and kill-pod's flags, parsed by the real program and planned by core. */

async function blastPlan(...argv: string[]) {
  return planBlast((await parse(['blast', ...argv])).flags as unknown as BlastFlags);
}
async function killPlan(...argv: string[]) {
  return planKillPod((await parse(['kill-pod', ...argv])).flags as unknown as KillPodFlags);
}
const blastError = (...argv: string[]) =>
  parseError(['blast', ...argv], (flags: BlastFlags) => planBlast(flags));
const killError = (...argv: string[]) =>
  parseError(['kill-pod', ...argv], (flags: KillPodFlags) => planKillPod(flags));

describe('planBlast', () => {
  it('fills in the defaults', async () => {
    expect(await blastPlan()).toEqual({
      count: 20,
      via: 'both',
      parallel: 1,
      keepAlive: false,
      timeoutSeconds: 120,
      json: false,
    });
  });

  it('takes the flags as typed values', async () => {
    expect(
      await blastPlan(
        '--count',
        '2000',
        '--via',
        'service',
        '--parallel',
        '8',
        '--timeout',
        '30',
        '--json',
      ),
    ).toMatchObject({ count: 2000, via: 'service', parallel: 8, timeoutSeconds: 30, json: true });
  });

  it.each([
    ['0', /^--count 0 is out of range.*1 to 20000/],
    ['20001', /^--count 20001 is out of range.*a closed one keeps its local port for a minute\.$/],
    ['abc', /^--count "abc" is not a whole number/],
    ['2.5', /^--count "2.5" is not a whole number/],
    ['-3', /^--count "-3" is not a whole number/],
    ['', /^--count "" is not a whole number/],
  ])('rejects --count %j naming the flag', async (count, message) => {
    const error = await blastError('--count', count);
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('\n');
  });

  it('accepts the edges of --count', async () => {
    expect((await blastPlan('--count', '1')).count).toBe(1);
    expect((await blastPlan('--count', '20000')).count).toBe(20000);
  });

  it('rejects an unknown --via with the choices', async () => {
    const error = await blastError('--via', 'ingress');
    expect(error).toBeInstanceOf(CommanderError);
    expect(error.message).toMatch(/--via <path>.*'ingress'.*service, port-forward, both/);
  });

  it('rejects --parallel out of 1..50 and above --count', async () => {
    expect((await blastError('--parallel', '51', '--count', '100')).message).toMatch(
      /--parallel 51 is out of range/,
    );
    expect((await blastError('--parallel', '0')).message).toMatch(/--parallel 0 is out of range/);
    expect((await blastError('--parallel', '6', '--count', '5')).message).toMatch(
      /--parallel 6 is more than --count 5/,
    );
    expect((await blastError('--parallel', '10', '--count', '5')).message).toMatch(
      /--parallel 10 is more than --count 5/,
    );
    expect((await blastPlan('--parallel', '5', '--count', '5')).parallel).toBe(5);
  });

  it('refuses --keep-alive with --parallel above 1, and allows it alone', async () => {
    expect((await blastError('--keep-alive', '--parallel', '4')).message).toMatch(
      /--keep-alive.*--parallel 4/,
    );
    expect((await blastPlan('--keep-alive')).keepAlive).toBe(true);
  });

  it('rejects a bad --timeout, with the same limit as every other command', async () => {
    expect((await blastError('--timeout', '0')).message).toMatch(/--timeout 0 is out of range/);
    expect((await blastError('--timeout', '1h')).message).toMatch(/--timeout "1h"/);
    for (const command of ['blast', 'kill-pod', 'up', 'down']) {
      expect((await parse([command, '--timeout', '3600'])).flags.timeout).toBe(3600);
      expect((await parseError([command, '--timeout', '3601'])).message).toMatch(
        /^--timeout 3601 is out of range; give an integer from 1 to 3600/,
      );
    }
  });
});

describe('planKillPod', () => {
  it('fills in the defaults', async () => {
    expect(await killPlan()).toEqual({
      timeoutSeconds: 120,
      json: false,
      underLoad: false,
      force: false,
      crash: false,
    });
  });

  it('keeps --pod, --seed and --grace', async () => {
    expect(
      await killPlan('--pod', 'web-abc-12345', '--seed', '42', '--grace', '7', '--json'),
    ).toEqual({
      pod: 'web-abc-12345',
      seed: '42',
      graceSeconds: 7,
      timeoutSeconds: 120,
      json: true,
      underLoad: false,
      force: false,
      crash: false,
    });
  });

  it('crashes the process for --crash, which takes --under-load and no deletion flags', async () => {
    expect(await killPlan('--under-load', '--crash', '--pod', 'web-abc-12345')).toEqual({
      pod: 'web-abc-12345',
      timeoutSeconds: 120,
      json: false,
      underLoad: true,
      force: false,
      crash: true,
    });
    expect((await killError('--crash')).message).toBe(
      '--crash shows what a crashed process does to requests, so it needs --under-load; add --under-load.',
    );
    expect((await killError('--under-load', '--crash', '--force')).message).toBe(
      '--crash makes the server process exit instead of deleting the pod, so --force (a deletion with grace 0) does not apply; drop --force (or drop --crash).',
    );
    expect((await killError('--under-load', '--crash', '--grace', '5')).message).toBe(
      "--crash makes the server process exit instead of deleting the pod, so --grace 5 (a deletion's grace period) does not apply; drop --grace (or drop --crash).",
    );
    // The more telling mistake first: a crash deletes nothing, with or without the load.
    expect((await killError('--crash', '--force')).message).toMatch(/^--crash .* drop --force/);
    for (const argv of [['--crash'], ['--under-load', '--crash', '--force']])
      expect(await killError(...argv)).toBeInstanceOf(UsageError);
  });

  it('deletes with grace 0 for --force, which only --under-load takes', async () => {
    expect(await killPlan('--under-load', '--force')).toMatchObject({
      underLoad: true,
      force: true,
      graceSeconds: 0,
    });
    expect(await killPlan('--under-load', '--grace', '3')).toMatchObject({
      underLoad: true,
      force: false,
      graceSeconds: 3,
    });
    expect((await killError('--force')).message).toBe(
      '--force shows what a forced deletion does to requests, so it needs --under-load; add --under-load (or use --grace 1 for a quick deletion).',
    );
    expect((await killError('--under-load', '--force', '--grace', '3')).message).toMatch(
      /^--force deletes with grace 0, which --grace 3 contradicts; drop --grace/,
    );
  });

  it('turns --grace 0 into 1 s, as kubectl does without --force, so the pod still terminates', async () => {
    expect((await killPlan('--grace', '0')).graceSeconds).toBe(1);
  });

  it('rejects names and numbers that cannot be right', async () => {
    expect((await killError('--pod', 'Web_Pod')).message).toMatch(
      /--pod "Web_Pod" is not a pod name/,
    );
    expect((await killError('--grace', '-1')).message).toMatch(/--grace/);
    expect((await killError('--seed', ' ')).message).toMatch(/--seed is empty/);
  });
});
