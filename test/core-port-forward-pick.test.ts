import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { lessActive, pickPortForwardPod } from '../src/cli/core/pods.js';
import { pickOne, seededRandom } from '../src/cli/core/blast-plan.js';

function pod(
  name: string,
  options: {
    node?: string;
    phase?: string;
    readySince?: string;
    restarts?: number;
    created?: string;
  } = {},
): k8s.V1Pod {
  return {
    metadata: { name, creationTimestamp: new Date(options.created ?? '2026-01-01T00:00:00Z') },
    spec: { containers: [], ...(options.node !== undefined ? { nodeName: options.node } : {}) },
    status: {
      phase: options.phase ?? 'Running',
      conditions: options.readySince
        ? [{ type: 'Ready', status: 'True', lastTransitionTime: new Date(options.readySince) }]
        : [{ type: 'Ready', status: 'False' }],
      containerStatuses: [
        {
          name: 'web',
          image: 'x',
          imageID: '',
          ready: Boolean(options.readySince),
          restartCount: options.restarts ?? 0,
        },
      ],
    },
  };
}

const name = (p: k8s.V1Pod | undefined) => p?.metadata?.name;

describe('the pod kubectl port-forward picks for a Service (reverse of podutils.ActivePods)', () => {
  it('prefers a scheduled pod over an unscheduled one', () => {
    const picked = pickPortForwardPod([
      pod('a', { phase: 'Pending' }),
      pod('b', { node: 'n', phase: 'Pending' }),
    ]);
    expect(name(picked?.pod)).toBe('b');
    expect(picked?.reason).toMatch(/only one scheduled/);
  });

  it('prefers Running over Pending, and Ready over not ready', () => {
    expect(
      name(
        pickPortForwardPod([pod('a', { node: 'n', phase: 'Pending' }), pod('b', { node: 'n' })])
          ?.pod,
      ),
    ).toBe('b');
    const ready = pickPortForwardPod([
      pod('a', { node: 'n' }),
      pod('b', { node: 'n', readySince: '2026-01-01T00:01:00Z' }),
    ]);
    expect(name(ready?.pod)).toBe('b');
    expect(ready?.reason).toMatch(/it is Ready/);
  });

  it('among ready pods takes the one Ready the longest', () => {
    const picked = pickPortForwardPod([
      pod('a', { node: 'n', readySince: '2026-01-01T00:05:00Z' }),
      pod('b', { node: 'n', readySince: '2026-01-01T00:01:00Z' }),
      pod('c', { node: 'n', readySince: '2026-01-01T00:03:00Z' }),
    ]);
    expect(name(picked?.pod)).toBe('b');
    expect(picked?.reason).toMatch(/Ready the longest \(since 2026-01-01T00:01:00.000Z\)/);
  });

  it('then fewer restarts, then the older pod, then the list order', () => {
    const since = '2026-01-01T00:01:00Z';
    expect(
      name(
        pickPortForwardPod([
          pod('a', { node: 'n', readySince: since, restarts: 2 }),
          pod('b', { node: 'n', readySince: since }),
        ])?.pod,
      ),
    ).toBe('b');
    expect(
      name(
        pickPortForwardPod([
          pod('a', { node: 'n', readySince: since, created: '2026-01-01T00:00:30Z' }),
          pod('b', { node: 'n', readySince: since, created: '2026-01-01T00:00:10Z' }),
        ])?.pod,
      ),
    ).toBe('b');
    const tie = pickPortForwardPod([
      pod('x', { node: 'n', readySince: since }),
      pod('y', { node: 'n', readySince: since }),
    ]);
    expect(name(tie?.pod)).toBe('x');
    expect(tie?.reason).toMatch(/ties/);
  });

  it('is a strict order: never less in both directions', () => {
    const pods = [
      pod('a'),
      pod('b', { node: 'n' }),
      pod('c', { node: 'n', readySince: '2026-01-01T00:01:00Z' }),
      pod('d', { node: 'n', phase: 'Pending' }),
    ];
    for (const x of pods)
      for (const y of pods) expect(lessActive(x, y) && lessActive(y, x)).toBe(false);
    expect(pickPortForwardPod([])).toBeUndefined();
    expect(pickPortForwardPod([pod('only', { node: 'n' })])?.reason).toBe(
      'the only pod behind the Service',
    );
  });
});

describe('seeded choice', () => {
  it('repeats for the same seed, differs across seeds, ignores list order', () => {
    const names = ['p-a', 'p-b', 'p-c', 'p-d', 'p-e'];
    const first = pickOne(names, seededRandom('42'));
    expect(pickOne([...names].reverse(), seededRandom('42'))).toBe(first);
    const picks = new Set(
      Array.from({ length: 20 }, (_, i) => pickOne(names, seededRandom(`s${i}`))),
    );
    expect(picks.size).toBeGreaterThan(1);
    expect(pickOne([], seededRandom('1'))).toBeUndefined();
  });

  it('produces numbers in [0, 1)', () => {
    const random = seededRandom('x');
    for (let i = 0; i < 1000; i += 1) {
      const v = random();
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(1);
    }
  });
});
