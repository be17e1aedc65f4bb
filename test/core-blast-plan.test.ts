import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/cli/errors.js';
import { planBlast, planKillPod } from '../src/cli/core/blast-plan.js';

function usage(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error('expected a UsageError');
}

describe('planBlast', () => {
  it('fills in the defaults', () => {
    expect(planBlast({})).toEqual({
      count: 20,
      via: 'both',
      parallel: 1,
      keepAlive: false,
      timeoutSeconds: 120,
      json: false,
    });
  });

  it('takes the flags as commander passes them', () => {
    expect(
      planBlast({ count: '2000', via: 'service', parallel: '8', timeout: '30', json: true }),
    ).toMatchObject({ count: 2000, via: 'service', parallel: 8, timeoutSeconds: 30, json: true });
  });

  it.each([
    ['0', /--count 0 is out of range.*1 to 100000/],
    ['100001', /--count 100001 is out of range/],
    ['abc', /--count "abc" is not a whole number/],
    ['2.5', /--count "2.5" is not a whole number/],
    ['-3', /--count "-3" is not a whole number/],
    ['', /--count "" is not a whole number/],
  ])('rejects --count %j naming the flag', (count, message) => {
    const error = usage(() => planBlast({ count }));
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('\n');
  });

  it('accepts the edges of --count', () => {
    expect(planBlast({ count: '1' }).count).toBe(1);
    expect(planBlast({ count: '100000' }).count).toBe(100000);
  });

  it('rejects an unknown --via with the choices', () => {
    expect(usage(() => planBlast({ via: 'ingress' })).message).toMatch(
      /--via "ingress".*service, port-forward, both/,
    );
  });

  it('rejects --parallel out of 1..50 and above --count', () => {
    expect(usage(() => planBlast({ parallel: '51', count: '100' })).message).toMatch(
      /--parallel 51 is out of range/,
    );
    expect(usage(() => planBlast({ parallel: '0' })).message).toMatch(
      /--parallel 0 is out of range/,
    );
    expect(planBlast({ parallel: '5', count: '5' }).parallel).toBe(5);
    expect(usage(() => planBlast({ parallel: '6', count: '5' })).message).toMatch(
      /--parallel 6 is more than --count 5/,
    );
    expect(usage(() => planBlast({ parallel: '10', count: '5' })).message).toMatch(
      /--parallel 10 is more than --count 5/,
    );
    expect(planBlast({ parallel: '5', count: '5' }).parallel).toBe(5);
  });

  it('refuses --keep-alive with --parallel above 1, and allows it alone', () => {
    expect(usage(() => planBlast({ keepAlive: true, parallel: '4' })).message).toMatch(
      /--keep-alive.*--parallel 4/,
    );
    expect(planBlast({ keepAlive: true }).keepAlive).toBe(true);
  });

  it('rejects a bad --timeout', () => {
    expect(usage(() => planBlast({ timeout: '0' })).message).toMatch(/--timeout 0 is out of range/);
    expect(usage(() => planBlast({ timeout: '1h' })).message).toMatch(/--timeout "1h"/);
  });
});

describe('planKillPod', () => {
  it('fills in the defaults', () => {
    expect(planKillPod({ timeout: '120' })).toEqual({ timeoutSeconds: 120, json: false });
  });

  it('keeps --pod, --seed and --grace', () => {
    expect(planKillPod({ pod: 'web-abc-12345', seed: '42', grace: '7', json: true })).toEqual({
      pod: 'web-abc-12345',
      seed: '42',
      graceSeconds: 7,
      timeoutSeconds: 120,
      json: true,
    });
  });

  it('turns --grace 0 into 1 s, as kubectl does without --force, so the pod still terminates', () => {
    expect(planKillPod({ grace: '0' }).graceSeconds).toBe(1);
  });

  it('rejects names and numbers that cannot be right', () => {
    expect(usage(() => planKillPod({ pod: 'Web_Pod' })).message).toMatch(
      /--pod "Web_Pod" is not a pod name/,
    );
    expect(usage(() => planKillPod({ grace: '-1' })).message).toMatch(/--grace/);
    expect(usage(() => planKillPod({ seed: ' ' })).message).toMatch(/--seed is empty/);
  });
});
