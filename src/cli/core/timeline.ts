/**
 * What `kill-pod` saw, in order, with seconds from the deletion (or, with --crash, from the
 * crash). Built from watch events the command records as they arrive; the order here is by
 * time, ties kept in the lesson's order.
 */

export type TimelineEvent =
  | 'deleted'
  | 'crashed'
  | 'terminating'
  | 'not-ready'
  | 'left-endpoints'
  | 'replacement-created'
  | 'scheduled'
  | 'started'
  | 'restarted'
  | 'ready'
  | 'ready-again'
  | 'old-pod-gone'
  | 'recovered';

export const EVENT_ORDER: readonly TimelineEvent[] = [
  'deleted',
  'crashed',
  'terminating',
  'not-ready',
  'left-endpoints',
  'replacement-created',
  'scheduled',
  'started',
  'restarted',
  'ready',
  'ready-again',
  'old-pod-gone',
  'recovered',
];

export interface Observation {
  event: TimelineEvent;
  /** Milliseconds since the epoch. */
  at: number;
  detail?: string;
}

export interface TimelineEntry {
  event: TimelineEvent;
  atSeconds: number;
  detail?: string;
  text: string;
}

export function describe(event: TimelineEvent, detail?: string): string {
  switch (event) {
    case 'deleted':
      return `deleted ${detail ?? 'the pod'}`;
    case 'crashed':
      return `crashed ${detail ?? 'the pod'}'s server process (exit 1); the pod is still Ready`;
    case 'terminating':
      return `old pod terminating${detail ? ` (${detail})` : ''}`;
    case 'not-ready':
      return `kubelet noticed the container had exited${detail ? ` (${detail})` : ''}: pod not Ready`;
    case 'left-endpoints':
      return `${detail ?? 'old pod'} left the Service's endpoints (no new connections go to it)`;
    case 'replacement-created':
      return `ReplicaSet created the replacement ${detail ?? ''}`.trim();
    case 'scheduled':
      return `replacement scheduled${detail ? ` on ${detail}` : ''}`;
    case 'started':
      return 'replacement container started';
    case 'restarted':
      return `kubelet restarted the container in the same pod${detail ? ` (${detail})` : ''}`;
    case 'ready':
      return "replacement Ready (and in the Service's endpoints)";
    case 'ready-again':
      return "Ready again (and back in the Service's endpoints)";
    case 'old-pod-gone':
      return 'old pod gone';
    case 'recovered':
      return `back to ${detail ?? 'all'} ready`;
  }
}

/**
 * Keeps the first observation of each event (a watch may report a state twice), sorts by time,
 * and measures from the deletion (or the earliest observation if the deletion is missing).
 */
export function buildTimeline(observations: readonly Observation[]): TimelineEntry[] {
  const first = new Map<TimelineEvent, Observation>();
  for (const o of observations) {
    const seen = first.get(o.event);
    if (!seen || o.at < seen.at) first.set(o.event, o);
  }
  const kept = [...first.values()];
  if (kept.length === 0) return [];
  const origin =
    (first.get('deleted') ?? first.get('crashed'))?.at ?? Math.min(...kept.map((o) => o.at));
  return kept
    .sort((a, b) => a.at - b.at || EVENT_ORDER.indexOf(a.event) - EVENT_ORDER.indexOf(b.event))
    .map((o) => ({
      event: o.event,
      atSeconds: Math.round(Math.max(0, o.at - origin) / 100) / 10,
      ...(o.detail !== undefined ? { detail: o.detail } : {}),
      text: describe(o.event, o.detail),
    }));
}

export function secondsBetween(fromMs: number, toMs: number): number {
  return Math.round((toMs - fromMs) / 100) / 10;
}
