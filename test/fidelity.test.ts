import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalise } from './fidelity/normalise.js';
import { cases, compare, FIXTURES, lineDiff, readFixtures, runEmbedded } from './fidelity/suite.js';
import { requireKubectl } from './helpers/sim.js';

/**
 * The differential suite in CI: the embedded cluster against the real cluster's recorded
 * answers. It fails when fewer cases answer the same than the recorded floor, so a change
 * that makes the embedded cluster less like a real one shows here.
 */

const floor = (
  JSON.parse(readFileSync(path.join(FIXTURES, 'floor.json'), 'utf8')) as { same: number }
).same;

describe('normalising answers', () => {
  it('hides what differs between clusters and runs, and keeps the rest', () => {
    const a = normalise(
      'web-server-deployment-5b65b46bf7-h4g8m  1/1  Running  0  12m  10.244.1.5  kind-worker2\n',
    );
    const b = normalise(
      'web-server-deployment-6d9f7c8b9-x2x2x   1/1     Running   0          3s    127.9.1.2     replica-demo-worker\n',
    );
    expect(a).toBe(
      'web-server-deployment-<hash>-<id>  1/1  Running  0  <age>  <ip>  <node:worker>',
    );
    expect(b).toBe(a);
    expect(
      normalise('  resourceVersion: "1234"\n  uid: 0b7c1c5e-2f7a-4c1b-9a59-0a6d1f1e2b3c'),
    ).toBe('  resourceVersion: "<rv>"\n  uid: <uid>');
    expect(normalise('1/1  Running')).not.toBe(normalise('0/1  Running'));
  });

  it('diffs line by line, the real answer as - and the embedded one as +', () => {
    expect(lineDiff(['a', 'b', 'c'], ['a', 'x', 'c'])).toBe('  a\n+ x\n- b\n  c');
  });
});

await requireKubectl();

describe('the embedded cluster against the real one', () => {
  it('has at least 80 cases, each with a recorded answer', () => {
    const recorded = readFixtures();
    expect(cases.length).toBeGreaterThanOrEqual(80);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    expect(cases.filter((c) => recorded.answers[c.name] === undefined).map((c) => c.name)).toEqual(
      [],
    );
  });

  it(`answers at least ${floor} cases as the real cluster does`, { timeout: 600_000 }, async () => {
    const recorded = readFixtures();
    const embedded = await runEmbedded(cases);
    const result = compare(cases, recorded.answers, embedded);
    const report = result.differ.map((d) => `=== ${d.name}\n${d.diff}`).join('\n');
    expect(
      result.same.length,
      `same: ${result.same.length} of ${cases.length}\n${report}`,
    ).toBeGreaterThanOrEqual(floor);
  });
});
