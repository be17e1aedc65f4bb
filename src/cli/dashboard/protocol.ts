import type { HistogramRow } from '../core/histogram.js';

/**
 * What the dashboard's server sends its page, as Server-Sent Events: plain data shared by
 * both sides (the page's bundle imports these types only). Event names are the keys of
 * `DashboardEvents`.
 */

export interface PodCard {
  name: string;
  replicaId: string;
  node: string | null;
  ip: string | null;
  /** What the card says: Ready, Terminating, Pending, a waiting reason, Running, not ready. */
  state: string;
  ready: boolean;
  terminating: boolean;
  restarts: number;
  /** Milliseconds since the epoch, for the age the page counts up. */
  createdAt: number | null;
  /** The pod's palette index, the same as in the CLI's tables; null before it has one. */
  colour: number | null;
}

export interface ClusterView {
  /** Where the lesson runs, in the CLI's words. */
  where: string;
  /** null while the cluster answers; else what is wrong, plainly. */
  problem: string | null;
  /** The Deployment's desired replicas; null when there is no Deployment. */
  desired: number | null;
  pods: PodCard[];
  /** What the dashboard is doing now (blast, kill, scale), if anything. */
  busy: string | null;
}

export type Leg = 'service' | 'port-forward';

/** A bar of a leg: the CLI's own histogram row. */
export type LegRow = HistogramRow;

/** A leg's histogram with the words the CLI prints around its table. */
export interface LegView {
  leg: Leg;
  rows: LegRow[];
  total: number;
  errors: number;
  title: string;
  lines: string[];
  paragraphs: string[];
}

export interface LoadSecondView {
  second: number;
  requests: number;
  failed: number;
}

export interface DashboardEvents {
  cluster: ClusterView;
  /** Sent every few seconds, so a page can tell a quiet connection from a dead one. */
  ping: Record<string, never>;
  action: { what: string; state: 'started' | 'done' | 'failed'; error?: string };
  progress: { text: string; state: 'running' | 'ok' | 'failed' };
  /** A line the CLI would print on stdout (the kill's timeline as it happens, a report). */
  line: { text: string };
  /** A line the CLI would print on stderr. */
  note: { text: string };
  'blast-leg': { leg: Leg; pods: { name: string; node: string }[]; total: number };
  'blast-counts': {
    leg: Leg;
    pods: Record<string, number>;
    failed: number;
    done: number;
    total: number;
  };
  'blast-result': { count: number; legs: LegView[] };
  'kill-result': {
    killed: string;
    replacement: string | null;
    recoverySeconds: number | null;
    load: { requests: number; failed: number; seconds: LoadSecondView[] } | null;
  };
}
