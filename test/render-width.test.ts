import { Chalk } from 'chalk';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildHistogram, type PodInfo } from '../src/cli/core/histogram.js';
import { evenness, latency } from '../src/cli/core/stats.js';
import { createPrinter } from '../src/cli/output.js';
import { histogramTable, renderBlast, type BlastResult } from '../src/cli/render/blast.js';
import { podRows, renderPodTable } from '../src/cli/render/pods.js';
import { paragraph, visibleWidth, wrapLine } from '../src/cli/render/text.js';

/** Every line fits the terminal it is printed to, down to 60 columns; logs keep everything. */

const color = new Chalk({ level: 1 });
const names = ['xk2lp', 'b7q9z', 'm4wdr', 'ttc2v', 'z9p5n'].map(
  (id) => `web-server-deployment-7d9f8c6b5d-${id}`,
);
const pods: PodInfo[] = names.map((name, i) => ({
  name,
  node: i % 2 ? 'replica-demo-worker2' : 'replica-demo-worker',
}));
function blastResult(count = 200, partial?: { requested: number }): BlastResult {
  const records = Array.from({ length: count }, (_, i) => ({
    status: 200,
    seconds: 0.002,
    pod: names[i % 5 === 4 ? 0 : i % 5] ?? '',
  }));
  const histogram = buildHistogram(records, pods, pods, count);
  const path = {
    histogram,
    latencyMs: latency(records),
    evenness: evenness(histogram),
    curlErrors: [],
    ...(partial ? { partial } : {}),
  };
  return {
    count: partial?.requested ?? count,
    service: {
      ...path,
      keepAlive: false,
      parallel: 1,
      jobName: 'replica-demo-blast-qr75gr',
      podsCreated: 1,
      sessionAffinity: 'None',
    },
    portForward: { ...path, pod: names[0] ?? '', reason: 'it is the oldest' },
  };
}

const now = Date.parse('2026-01-01T00:10:00Z');
const podObjects = names.map((name, i) => ({
  metadata: { name, creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: { nodeName: pods[i]?.node ?? '' },
  status: {
    podIP: `127.10.1.${i + 10}`,
    containerStatuses: [{ ready: true, restartCount: 0 }],
  },
}));

const widest = (lines: string[]) => Math.max(...lines.map(visibleWidth));

describe('fitting the terminal', () => {
  it.each([60, 80, 120])('keeps every line of a blast report within %i columns', (width) => {
    const lines = renderBlast(blastResult(), color, { width });
    expect(widest(lines)).toBeLessThanOrEqual(width);
    // The bars survive: the busiest pod's bar is at least 10 wide.
    expect(lines.some((l) => /█{10,}/.test(l))).toBe(true);
  });

  it('drops the POD column before the bar at 60 columns, and keeps the replica ids', () => {
    const lines = histogramTable(blastResult().service!.histogram, color, 60);
    expect(lines[0]).not.toContain('POD');
    expect(lines[0]).toContain('REPLICA');
    for (const id of ['xk2lp', 'b7q9z']) expect(lines.join('\n')).toContain(id);
  });

  it('keeps every column and a 30-wide bar in a log (no width)', () => {
    const lines = histogramTable(blastResult().service!.histogram, color);
    expect(lines[0]).toContain('POD');
    expect(lines[0]).toContain('NODE');
    expect(lines.some((l) => /█{30}/.test(l))).toBe(true);
    // Prose in logs wraps at 92 columns.
    expect(
      widest(renderBlast(blastResult(), color).filter((l) => !l.includes('█'))),
    ).toBeLessThanOrEqual(92);
  });

  it.each([60, 80, 100])('keeps the pod table within %i columns', (width) => {
    const text = renderPodTable(podRows(podObjects, now), { boxed: true, width });
    expect(widest(text.split('\n'))).toBeLessThanOrEqual(width);
    expect(text).not.toContain('…');
  });

  it('boxes the pod table when the terminal is wide enough, and drops REPLICA before the box', () => {
    expect(renderPodTable(podRows(podObjects, now), { boxed: true, width: 140 })).toContain('┌');
    const at100 = renderPodTable(podRows(podObjects, now), { boxed: true, width: 100 });
    expect(at100).not.toContain('REPLICA');
    expect(at100).toContain('NODE');
  });
});

describe('wrapping prose', () => {
  it('breaks at spaces and indents the continuation like the line', () => {
    const lines = wrapLine('  one two three four five six seven', 15);
    expect(lines).toEqual(['  one two three', '  four five six', '  seven']);
  });

  it('breaks a word longer than a line instead of overflowing', () => {
    const lines = paragraph('web-server-deployment-7d9f8c6b5d-xk2lp is gone', 20);
    expect(widest(lines)).toBeLessThanOrEqual(20);
    expect(lines.map((l) => l.trim()).join('')).toContain('web-server-deployment-7d9f8c6b5d-xk2lp');
  });

  it('wraps what the printer writes to a narrow terminal, and leaves a log alone', () => {
    const long = `Using the embedded cluster (replica-demo sim), context replica-demo-sim, namespace ${'n'.repeat(30)}.`;
    const run = (width: number | undefined) => {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      const printer = createPrinter({
        stdout,
        stderr,
        interactive: false,
        color: false,
        stdoutWidth: () => width,
        stderrWidth: () => width,
      });
      printer.line(long);
      printer.note(long);
      return [String(stdout.read()), String(stderr.read())];
    };
    for (const text of run(60)) expect(widest(text.trimEnd().split('\n'))).toBeLessThanOrEqual(60);
    expect(run(undefined)).toEqual([`${long}\n`, `${long}\n`]);
  });
});

describe('what a blast report says', () => {
  const text = (result: BlastResult) => renderBlast(result, color).join('\n');

  it('says how many requests an even-looking split needs only to a smaller blast', () => {
    expect(text(blastResult(200))).toMatch(/An even-looking split needs about 1600 requests/);
    expect(text(blastResult(2000))).not.toMatch(/even-looking split needs/);
  });

  it('marks a blast stopped by Ctrl-C as partial, with how far it got', () => {
    const lines = renderBlast(blastResult(300, { requested: 20000 }), color);
    expect(
      lines.filter((l) => l.includes('partial: stopped by Ctrl-C after 300 of 20000')),
    ).toHaveLength(2);
    expect(text(blastResult(300))).not.toMatch(/partial/);
  });
});
