import { Chalk } from 'chalk';
import type { Context } from '../context.js';
import type { Printer, Progress } from '../output.js';
import { ReplicaDemoError } from '../errors.js';
import { DEFAULTS, type BlastFlags, type KillPodFlags, type TargetFlags } from '../core/flags.js';
import { blast, type BlastLeg } from '../commands/blast.js';
import { killPod, type KillPodResult } from '../commands/kill-pod.js';
import type { KubeApi } from '../kube/api.js';
import { DEPLOYMENT } from '../core/names.js';
import type { Histogram } from '../core/histogram.js';
import { portForwardText, serviceText, type BlastResult, type LegText } from '../render/blast.js';
import type { Hub } from './hub.js';
import type { BlastRequest, KillRequest } from './requests.js';
import type { DashboardEvents, LegView } from './protocol.js';

/**
 * What the page's buttons run: the CLI's own `blast` and `kill-pod` commands, with a printer
 * that sends each line to the page instead of a terminal, so the page reads the CLI's words.
 * One action at a time.
 */

const plain = new Chalk({ level: 0 });

/** The printer of an action: result lines, notes and progress become events. */
function pagePrinter(hub: Hub): Printer {
  const progress = (initial: string): Progress => {
    let active = true;
    const say = (text: string, state: 'running' | 'ok' | 'failed' = 'running') => {
      if (active) hub.send('progress', { text, state }, false);
      if (state !== 'running') active = false;
    };
    say(initial);
    return {
      update: (text) => say(text),
      count: (label, done, total) => say(`${label}: ${done} of ${total} requests`),
      succeed: (text) => say(text, 'ok'),
      fail: (text) => say(text, 'failed'),
      stop: () => {
        active = false;
      },
    };
  };
  return {
    color: plain,
    interactive: false,
    width: undefined,
    line: (text = '') => hub.send('line', { text }),
    note: (text) => hub.send('note', { text }),
    progress,
    prepare: () => Promise.resolve(),
  };
}

function legView(leg: BlastLeg, histogram: Histogram, text: LegText): LegView {
  return { leg, rows: histogram.rows, total: histogram.total, errors: histogram.errors, ...text };
}

/** Each leg's histogram with the words the CLI prints under it. */
export function blastView(result: BlastResult): LegView[] {
  const legs: LegView[] = [];
  if (result.service)
    legs.push(legView('service', result.service.histogram, serviceText(result.service, plain)));
  if (result.portForward)
    legs.push(
      legView(
        'port-forward',
        result.portForward.histogram,
        portForwardText(result.portForward, plain),
      ),
    );
  return legs;
}

export class Actions {
  private busy: { what: string; abort: AbortController; done: Promise<void> } | undefined;

  constructor(
    private readonly ctx: Context,
    private readonly targetFlags: TargetFlags,
    private readonly api: KubeApi,
    private readonly hub: Hub,
    private readonly changed: () => void,
  ) {}

  get current(): string | null {
    return this.busy?.what ?? null;
  }

  /** Stops the running action as Ctrl-C stops a command. */
  stop(): boolean {
    if (!this.busy) return false;
    this.busy.abort.abort();
    return true;
  }

  /** Stops the running action and waits until it has cleaned up. */
  async stopAndWait(): Promise<void> {
    const busy = this.busy;
    if (!busy) return;
    busy.abort.abort();
    await busy.done;
  }

  /** false when another action runs (the page says so); else runs it in the background. */
  begin(what: string, run: (ctx: Context) => Promise<void>): boolean {
    if (this.busy) return false;
    const abort = new AbortController();
    this.hub.startAction();
    this.hub.send('action', { what, state: 'started' });
    this.changed();
    const ctx: Context = {
      ...this.ctx,
      printer: pagePrinter(this.hub),
      signal: AbortSignal.any([abort.signal, this.ctx.signal]),
      interactive: false,
      ask: () => Promise.resolve(undefined),
    };
    const done = run(ctx)
      .then(
        () => this.hub.send('action', { what, state: 'done' }),
        (error: unknown) =>
          this.hub.send('action', { what, state: 'failed', error: message(error) }),
      )
      .finally(() => {
        this.busy = undefined;
        this.changed();
      });
    this.busy = { what, abort, done };
    return true;
  }

  blast(request: BlastRequest): boolean {
    const flags: BlastFlags = {
      ...this.targetFlags,
      ...request,
      timeout: DEFAULTS.blastTimeout,
      json: false,
    };
    return this.begin('blast', async (ctx) => {
      const counts = new LiveCounts(this.hub);
      try {
        await blast(flags, ctx, {
          onLegStart: (leg, pods, requests) => counts.start(leg, pods, requests),
          onRecord: (leg, record) => counts.add(leg, record.status, record.pod),
          onResult: (result) => {
            counts.flush();
            this.hub.send('blast-result', { count: result.count, legs: blastView(result) });
          },
        });
      } finally {
        counts.stop();
      }
    });
  }

  kill(request: KillRequest): boolean {
    const flags: KillPodFlags = {
      ...this.targetFlags,
      pod: request.pod,
      timeout: DEFAULTS.killTimeout,
      json: false,
      ...(request.underLoad ? { underLoad: true } : {}),
      ...(request.crash ? { crash: true } : {}),
    };
    const what = request.crash
      ? 'kill by crash under load'
      : request.underLoad
        ? 'kill under load'
        : 'kill';
    return this.begin(what, async (ctx) => {
      await killPod(flags, ctx, (result) => this.hub.send('kill-result', killView(result)));
    });
  }

  scale(replicas: number): boolean {
    return this.begin('scale', async (ctx) => {
      await this.api.scaleDeployment(replicas);
      ctx.printer.line(
        `Scaled ${DEPLOYMENT} to ${replicas} replica${replicas === 1 ? '' : 's'}; the ReplicaSet adds or removes pods, and the next blast splits over them.`,
      );
    });
  }
}

/** What the page draws of a kill: who went, who came, and the load's seconds. */
function killView(result: KillPodResult): DashboardEvents['kill-result'] {
  return {
    killed: result.killed,
    replacement: result.replacement,
    recoverySeconds: result.recoverySeconds,
    load: result.load
      ? {
          requests: result.load.requests,
          failed: result.load.failed,
          seconds: result.load.seconds.map(({ second, requests, failed }) => ({
            second,
            requests,
            failed,
          })),
        }
      : null,
  };
}

function message(error: unknown): string {
  if (error instanceof ReplicaDemoError)
    return `${error.message}${error.hint ? ` ${error.hint}` : ''}`;
  return error instanceof Error ? error.message : String(error);
}

/** Requests counted per pod as they are answered, sent to the page ten times a second. */
class LiveCounts {
  private legs = new Map<
    BlastLeg,
    { pods: Record<string, number>; failed: number; done: number; total: number }
  >();
  private dirty = false;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly hub: Hub) {
    this.timer = setInterval(() => this.flush(), 100);
  }

  start(leg: BlastLeg, pods: { name: string; node: string }[], total: number): void {
    this.legs.set(leg, {
      pods: Object.fromEntries(pods.map((p) => [p.name, 0])),
      failed: 0,
      done: 0,
      total,
    });
    this.hub.send('blast-leg', { leg, pods, total });
  }

  add(leg: BlastLeg, status: number, pod: string | undefined): void {
    const counts = this.legs.get(leg);
    if (!counts) return;
    counts.done += 1;
    if (status < 200 || status > 299) counts.failed += 1;
    if (pod !== undefined && status !== 0) counts.pods[pod] = (counts.pods[pod] ?? 0) + 1;
    this.dirty = true;
  }

  flush(): void {
    if (!this.dirty) return;
    this.dirty = false;
    for (const [leg, counts] of this.legs) this.hub.send('blast-counts', { leg, ...counts }, false);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
