import { describe, expect, it } from 'vitest';
import { Chalk } from 'chalk';
import { parseCurlLog, parseWriteOutLine, replicaId } from '../src/cli/core/curl-log.js';
import { buildHistogram, podsReached } from '../src/cli/core/histogram.js';
import {
  chiSquareEven,
  evenness,
  formatP,
  latency,
  percentile,
  requestsForEven,
} from '../src/cli/core/stats.js';
import { buildTimeline, secondsBetween } from '../src/cli/core/timeline.js';
import {
  bar,
  blastJson,
  failureSummary,
  renderBlast,
  type BlastResult,
} from '../src/cli/render/blast.js';

const POD_A = 'web-server-deployment-7c9f8b6d5f-aaaaa';
const POD_B = 'web-server-deployment-7c9f8b6d5f-bbbbb';
const POD_C = 'web-server-deployment-7c9f8b6d5f-ccccc';
const ready = [
  { name: POD_A, node: 'node-1' },
  { name: POD_B, node: 'node-2' },
  { name: POD_C, node: 'node-3' },
];

describe('curl log parsing', () => {
  it('reads a -w line: status, seconds, pod', () => {
    expect(parseWriteOutLine(`200 0.001234 ${POD_A}`)).toEqual({
      status: 200,
      seconds: 0.001234,
      pod: POD_A,
    });
    expect(parseWriteOutLine('000 0.000142 ')).toEqual({ status: 0, seconds: 0.000142 });
    expect(parseWriteOutLine('000 0.000142')).toEqual({ status: 0, seconds: 0.000142 });
    expect(parseWriteOutLine('hello')).toBeUndefined();
  });

  it('separates requests, curl errors (grouped) and other lines', () => {
    const log = [
      `200 0.002000 ${POD_A}`,
      'curl: (7) Failed to connect to web-server-service port 80 after 3 ms: Could not connect to server',
      '000 0.003000 ',
      `503 0.010000 ${POD_B}`,
      'curl: (7) Failed to connect to web-server-service port 80 after 12 ms: Could not connect to server',
      '000 0.012000 ',
      'curl: (28) Operation timed out after 10001 milliseconds with 0 bytes received',
      '000 10.001 ',
      'DL% UL%  Dled  Uled  Xfers',
      '',
    ].join('\n');
    const parsed = parseCurlLog(log);
    expect(parsed.records).toHaveLength(5);
    expect(parsed.errors).toEqual([
      {
        code: 7,
        message:
          'Failed to connect to web-server-service port 80 after N ms: Could not connect to server',
        count: 2,
      },
      {
        code: 28,
        message: 'Operation timed out after N milliseconds with 0 bytes received',
        count: 1,
      },
    ]);
    expect(parsed.unparsed).toEqual(['DL% UL%  Dled  Uled  Xfers']);
  });

  it('puts the most common curl error first, whatever came first in the log', () => {
    const parsed = parseCurlLog(
      [
        'curl: (28) Operation timed out after 10001 milliseconds with 0 bytes received',
        'curl: (7) Failed to connect to web-server-service port 80 after 3 ms: refused',
        'curl: (7) Failed to connect to web-server-service port 80 after 4 ms: refused',
      ].join('\n'),
    );
    expect(parsed.errors.map((e) => [e.code, e.count])).toEqual([
      [7, 2],
      [28, 1],
    ]);
  });

  it('reads the time of each line from a log read with timestamps', () => {
    const parsed = parseCurlLog(
      [
        `2026-12-03T04:52:36.221952221Z 200 0.002896 ${POD_A}`,
        '2026-12-03T04:52:36.3Z curl: (7) Failed to connect to web-server-service port 80 after 0 ms: refused',
        '2026-12-03T04:52:36.300123Z 000 0.000258 ',
        `200 0.001 ${POD_B}`,
      ].join('\n'),
    );
    expect(parsed.records).toEqual([
      {
        status: 200,
        seconds: 0.002896,
        pod: POD_A,
        loggedAt: Date.parse('2026-12-03T04:52:36.221Z'),
      },
      { status: 0, seconds: 0.000258, loggedAt: Date.parse('2026-12-03T04:52:36.300Z') },
      { status: 200, seconds: 0.001, pod: POD_B },
    ]);
    expect(parsed.errors.map((e) => e.code)).toEqual([7]);
    expect(parsed.unparsed).toEqual([]);
  });

  it('takes the replica id from the last dash segment', () => {
    expect(replicaId(POD_A)).toBe('aaaaa');
    expect(replicaId('solo')).toBe('solo');
  });
});

describe('histogram', () => {
  const records = [
    { status: 200, seconds: 0.001, pod: POD_A },
    { status: 200, seconds: 0.002, pod: POD_A },
    { status: 200, seconds: 0.003, pod: POD_B },
    { status: 503, seconds: 0.004, pod: POD_B },
    { status: 0, seconds: 0.005 },
    { status: 200, seconds: 0.006 },
  ];

  it('counts per pod, keeps ready pods with no hits, and counts errors', () => {
    const h = buildHistogram(records, ready);
    expect(h.rows.map((r) => [r.pod, r.count, r.node, r.replicaId])).toEqual([
      [POD_A, 2, 'node-1', 'aaaaa'],
      [POD_B, 2, 'node-2', 'bbbbb'],
      [POD_C, 0, 'node-3', 'ccccc'],
    ]);
    expect(h.total).toBe(6);
    expect(h.answered).toBe(4);
    expect(h.errors).toBe(2); // one 503, one failed connection
    expect(h.failedConnections).toBe(1);
    expect(h.unnamed).toBe(1);
    expect(h.statuses).toEqual([{ status: 503, count: 1 }]);
    expect(h.rows[0]!.percent).toBeCloseTo(50);
    expect(podsReached(h)).toEqual([POD_A, POD_B]);
  });

  it('counts every status outside 2xx as an error, redirects too', () => {
    const h = buildHistogram(
      [204, 301, 404, 500].map((status) => ({ status, seconds: 0.001, pod: POD_A })),
      ready,
    );
    expect(h.errors).toBe(3);
    expect(h.statuses.map((s) => s.status).sort()).toEqual([301, 404, 500]);
  });

  it('adds a pod that answered but was not ready, and counts unreported requests as failed', () => {
    const extra = 'web-server-deployment-7c9f8b6d5f-zzzzz';
    const h = buildHistogram([{ status: 200, seconds: 0.001, pod: extra }], ready, [], 3);
    expect(h.rows.find((r) => r.pod === extra)).toMatchObject({
      ready: false,
      node: '?',
      count: 1,
    });
    expect(h.errors).toBe(2);
  });
});

describe('statistics', () => {
  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 0.5)).toBe(50);
    expect(percentile(values, 0.95)).toBe(95);
    expect(percentile([7], 0.95)).toBe(7);
  });

  it('reports latency in milliseconds without failed connections', () => {
    const records = [
      ...Array.from({ length: 19 }, (_, i) => ({ status: 200, seconds: (i + 1) / 1000 })),
      { status: 200, seconds: 0.5 },
      { status: 0, seconds: 9 },
    ];
    expect(latency(records)).toEqual({ p50: 10, p95: 19, max: 500 });
    expect(latency([{ status: 0, seconds: 1 }])).toBeNull();
  });

  it('computes chi-square and its p-value against an even split', () => {
    // 4 pods, 40 each: a perfect split.
    expect(chiSquareEven([40, 40, 40, 40])).toMatchObject({
      statistic: 0,
      pValue: 1,
      degreesOfFreedom: 3,
    });
    // Counts 70,30,30,30 against 40 each: (30² + 3·10²)/40 = 30.
    const c = chiSquareEven([70, 30, 30, 30])!;
    expect(c.statistic).toBeCloseTo((30 ** 2 + 3 * 10 ** 2) / 40, 10);
    // chi-square 30 with 3 degrees of freedom: p ≈ 1.38e-6.
    expect(c.pValue).toBeGreaterThan(1e-6);
    expect(c.pValue).toBeLessThan(2e-6);
    expect(chiSquareEven([10])).toBeNull();
    expect(chiSquareEven([0, 0])).toBeNull();
  });

  it('gives a p-value of 0.05 at the textbook critical value', () => {
    // One pod 40+a, another 40-a, 3 at 40: statistic 2a²/40 = 9.488 -> a = sqrt(189.76).
    const a = Math.sqrt(9.488 * 20);
    expect(chiSquareEven([40 + a, 40 - a, 40, 40, 40])!.pValue).toBeCloseTo(0.05, 3);
  });

  it('says too few, even, or clearly uneven', () => {
    const h = (counts: number[]) =>
      buildHistogram(
        counts.flatMap((c, i) =>
          Array.from({ length: c }, () => ({ status: 200, seconds: 0.001, pod: `p-${i}` })),
        ),
        counts.map((_, i) => ({ name: `p-${i}`, node: 'n' })),
      );
    const few = evenness(h([6, 3, 5, 2, 4]));
    expect(few.verdict).toBe('too-few');
    expect(few.sentence).toContain('try --count 200');
    const even = evenness(h([42, 38, 40, 37, 43]));
    expect(even.verdict).toBe('even');
    expect(even.sentence).toMatch(/^Even enough for random choice/);
    const uneven = evenness(h([120, 20, 20, 20, 20]));
    expect(uneven.verdict).toBe('uneven');
    expect(uneven.sentence).toMatch(/^Clearly uneven/);
    const onePod = evenness(h([200, 0, 0, 0, 0]));
    expect(onePod.verdict).toBe('one-pod');
    expect(even.evenAt).toBe(1600);
    // Five expected per pod is enough for the test (Cochran's rule): a verdict, not "too few".
    expect(evenness(h([5, 5, 5, 5, 5])).verdict).toBe('even');
    // p = 0.037: unusual, but not the 1 in 100 that makes a split "clearly uneven".
    const unusual = evenness(h([52, 48, 40, 30, 30]));
    expect(unusual.chiSquare!.pValue).toBeGreaterThan(0.01);
    expect(unusual.chiSquare!.pValue).toBeLessThan(0.05);
    expect(unusual.verdict).toBe('even');
    expect(unusual.sentence).toContain('(chi-square 10.2, p = 0.037)');
  });

  it('prints p with three decimals, and below 0.001 as "< 0.001"', () => {
    expect(formatP(0.0372)).toBe('= 0.037');
    expect(formatP(0.0012)).toBe('= 0.001');
    expect(formatP(0.0005)).toBe('< 0.001');
  });

  it('derives how many requests make the split even: 400·(k−1)', () => {
    expect(requestsForEven(5)).toBe(1600);
    expect(requestsForEven(2)).toBe(400);
    // Check the formula: at n = 400(k−1), 2σ equals 10% of the mean.
    for (const k of [2, 3, 5, 10]) {
      const n = requestsForEven(k);
      const sigma = Math.sqrt(n * (1 / k) * (1 - 1 / k));
      expect(2 * sigma).toBeCloseTo(0.1 * (n / k), 6);
    }
  });
});

describe('timeline', () => {
  it('orders by time, keeps the first of repeated events, measures from the deletion', () => {
    const t0 = 1_000_000;
    const timeline = buildTimeline([
      { event: 'ready', at: t0 + 2500 },
      { event: 'deleted', at: t0, detail: 'pod-a' },
      { event: 'replacement-created', at: t0 + 120, detail: 'pod-b' },
      { event: 'terminating', at: t0 + 50 },
      { event: 'terminating', at: t0 + 90 },
      { event: 'scheduled', at: t0 + 130, detail: 'node-2' },
      { event: 'old-pod-gone', at: t0 + 3000 },
    ]);
    expect(timeline.map((e) => e.event)).toEqual([
      'deleted',
      'terminating',
      'replacement-created',
      'scheduled',
      'ready',
      'old-pod-gone',
    ]);
    expect(timeline.map((e) => e.atSeconds)).toEqual([0, 0.1, 0.1, 0.1, 2.5, 3]);
    expect(timeline[2]!.text).toContain('pod-b');
    expect(timeline[3]!.text).toContain('node-2');
  });

  it('keeps the earliest of a repeated event, whatever order they arrive in', () => {
    const timeline = buildTimeline([
      { event: 'deleted', at: 0 },
      { event: 'ready', at: 2600 },
      { event: 'ready', at: 1400 },
    ]);
    expect(timeline.map((e) => [e.event, e.atSeconds])).toEqual([
      ['deleted', 0],
      ['ready', 1.4],
    ]);
  });

  it('rounds seconds to the nearest tenth', () => {
    expect(secondsBetween(1000, 2960)).toBe(2);
    expect(secondsBetween(1000, 2940)).toBe(1.9);
  });

  it('measures a crash from the crash, in the order of the lesson, naming what the kubelet did', () => {
    const t0 = 2_000_000;
    const timeline = buildTimeline([
      { event: 'left-endpoints', at: t0 + 740, detail: 'pod-a' },
      { event: 'not-ready', at: t0 + 700, detail: 'exit code 1, Error' },
      { event: 'crashed', at: t0, detail: 'pod-a' },
      { event: 'ready-again', at: t0 + 1700 },
      { event: 'restarted', at: t0 + 1700, detail: 'restart count 1' },
    ]);
    expect(timeline.map((e) => [e.event, e.atSeconds])).toEqual([
      ['crashed', 0],
      ['not-ready', 0.7],
      ['left-endpoints', 0.7],
      ['restarted', 1.7],
      ['ready-again', 1.7],
    ]);
    expect(timeline.map((e) => e.text)).toEqual([
      "crashed pod-a's server process (exit 1); the pod is still Ready",
      'kubelet noticed the container had exited (exit code 1, Error): pod not Ready',
      "pod-a left the Service's endpoints (no new connections go to it)",
      'kubelet restarted the container in the same pod (restart count 1)',
      "Ready again (and back in the Service's endpoints)",
    ]);
  });

  it('breaks ties in the order of the lesson', () => {
    const timeline = buildTimeline([
      { event: 'ready', at: 5 },
      { event: 'started', at: 5 },
      { event: 'deleted', at: 0 },
    ]);
    expect(timeline.map((e) => e.event)).toEqual(['deleted', 'started', 'ready']);
  });
});

describe('render', () => {
  const plain = new Chalk({ level: 0 });
  const records = [
    ...Array.from({ length: 3 }, () => ({ status: 200, seconds: 0.002, pod: POD_A })),
    { status: 200, seconds: 0.004, pod: POD_B },
  ];
  const histogram = buildHistogram(records, ready);
  const result: BlastResult = {
    count: 4,
    service: {
      histogram,
      latencyMs: latency(records),
      evenness: evenness(histogram),
      curlErrors: [],
      keepAlive: false,
      parallel: 1,
      jobName: 'replica-demo-blast-abc',
      podsCreated: 1,
    },
    portForward: null,
  };

  it('prints a table with every ready pod, a bar and the explanation, without colour codes', () => {
    const text = renderBlast(result, plain).join('\n');
    expect(text).toContain(POD_C);
    expect(text).toMatch(/aaaaa\s+node-1\s+3\s+75\.0\s+█{30}/);
    expect(text).toContain('picks a ready pod at random once per connection');
    expect(text).toContain('try --count 200');
    // eslint-disable-next-line no-control-regex -- looking for escape codes on purpose
    expect(text).not.toMatch(/\u001b\[/);
  });

  it('scales bars to the largest count', () => {
    expect(bar(10, 10, 10)).toBe('██████████');
    expect(bar(1, 100, 10)).toBe('█');
    expect(bar(0, 10, 10)).toBe('');
  });

  it('builds the documented JSON shape', () => {
    const json = JSON.parse(JSON.stringify(blastJson(result))) as Record<string, unknown>;
    expect(json).toMatchObject({
      count: 4,
      service: {
        total: 4,
        errors: 0,
        pods: [
          { pod: POD_A, replicaId: 'aaaaa', node: 'node-1', count: 3 },
          { pod: POD_B, replicaId: 'bbbbb', node: 'node-2', count: 1 },
          { pod: POD_C, replicaId: 'ccccc', node: 'node-3', count: 0 },
        ],
        latencyMs: { p50: 2, p95: 4, max: 4 },
        chiSquare: {
          statistic: expect.any(Number) as number,
          pValue: expect.any(Number) as number,
        },
      },
      portForward: null,
    });
  });

  it('names failed requests and their most common reason, and nothing when all succeeded', () => {
    expect(failureSummary(result)).toBeUndefined();
    const failing = buildHistogram(
      [
        { status: 200, seconds: 0.001, pod: POD_A },
        { status: 0, seconds: 0.001 },
        { status: 0, seconds: 0.001 },
      ],
      ready,
    );
    const withErrors: BlastResult = {
      ...result,
      service: {
        ...result.service!,
        histogram: failing,
        curlErrors: [
          { code: 7, message: 'Failed to connect to web-server-service port 80', count: 2 },
        ],
      },
    };
    expect(failureSummary(withErrors)).toBe(
      '2 of 3 requests through the Service failed (2 × curl (7) Failed to connect to web-server-service port 80).',
    );
    expect(renderBlast(withErrors, plain).join('\n')).toContain('errors: 2 got no response');
  });

  it('explains a result pinned by sessionAffinity: ClientIP', () => {
    const pinned: BlastResult = {
      ...result,
      service: { ...result.service!, sessionAffinity: 'ClientIP' },
    };
    const text = renderBlast(pinned, plain).join('\n');
    expect(text).toContain('sessionAffinity: ClientIP');
    // Affinity decided the split, so the random-spread explanation would contradict it.
    expect(text).not.toContain('Why it spreads');
    expect(renderBlast(result, plain).join('\n')).not.toContain('sessionAffinity');
    expect(renderBlast(result, plain).join('\n')).toContain('Why it spreads');
  });
});
