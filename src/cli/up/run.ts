import path from 'node:path';
import type { Context } from '../context.js';
import { manifestsDir } from '../core/manifests.js';
import type { ObjectKey } from '../core/apply-diff.js';
import type { UpOptions } from '../core/validate.js';
import type { PodRow } from '../render/pods.js';
import type { Target } from '../target.js';

/** What the steps of `up` share: the options, the tools' settings, and what to say on Ctrl-C. */

export type CurlImageState = 'on-nodes' | 'loaded' | 'unavailable' | 'skipped';

export function packageRoot(): string {
  return path.resolve(manifestsDir(), '..');
}

export interface Run {
  ctx: Context;
  opts: UpOptions;
  tools: { signal: AbortSignal; env: NodeJS.ProcessEnv };
  /** What is under way, for the Ctrl-C message. */
  stage: string;
  /** What was left behind if the run stops now. */
  leftBehind: string;
  /** This run started the embedded cluster: an interrupted run says it is still running. */
  startedSim: boolean;
  /** Removers of what ctx.leftovers holds for this run: a finished `up` leaves nothing behind. */
  tracked: (() => void)[];
  /** --dry-run with a cluster that --create-cluster would make: nothing to read from it yet. */
  clusterPlanned: boolean;
}

/** A check that passed, as a ✔ line on stderr. */
export function passed(run: Pick<Run, 'ctx'>, text: string): void {
  run.ctx.printer.note(`${run.ctx.printer.color.green('✔')} ${text}`);
}

/** What `up` did, for the tour and the tests. */
export interface UpResult {
  target: Target;
  image: string;
  dryRun: boolean;
  createdCluster: boolean;
  built: boolean;
  /** Nodes the server image was loaded into this run. */
  loadedNodes: string[];
  curlImage: CurlImageState;
  /** Image references pushed to --registry this run. */
  pushed: string[];
  /** --registry, when the images come from a registry. */
  registry?: string;
  /** Objects that were missing or differed and were applied; empty on a re-run. */
  changed: ObjectKey[];
  ready: number;
  desired: number;
  pods: PodRow[];
  /** True when this run changed nothing anywhere. */
  unchanged: boolean;
}
