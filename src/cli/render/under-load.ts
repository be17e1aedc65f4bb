import type { ChalkInstance } from 'chalk';
import type { CurlError } from '../core/curl-log.js';
import { replicaId } from '../core/curl-log.js';
import type { LoadReport, LoadSecond } from '../core/under-load.js';
import type { PodPaint } from './colours.js';
import { fitTable, type TableVariant } from './table.js';
import { TEXT_WIDTH, paragraph, wrapLine } from './text.js';

/**
 * What `kill-pod --under-load` saw: one row per second of the load (second 0 begins at the
 * kill), the moments of the kill marked between the rows, then what it means.
 */

/** A moment of the kill, in seconds from it. */
export interface LoadMark {
  event: 'deleted' | 'ready' | 'gone' | 'crashed' | 'not-ready' | 'restarted' | 'ready-again';
  atSeconds: number;
  pod: string;
}

/** With --crash: what the kubelet did about the dead process, in seconds from the crash. */
export interface CrashView {
  exitCode: number | null;
  notReadySeconds: number | null;
  restartedSeconds: number | null;
  readyAgainSeconds: number | null;
  restartCount: number | null;
  /** The replicas the Service spreads new connections over. */
  replicas: number;
  readiness: { periodSeconds: number; failureThreshold: number } | null;
}

export interface LoadView {
  report: LoadReport;
  marks: LoadMark[];
  victim: string;
  force: boolean;
  /** The seconds of the killed pod's preStop sleep, if it has one. */
  preStopSeconds: number | undefined;
  /** curl's reasons for the failed requests, the most common first. */
  curlErrors: CurlError[];
  /** With --crash (the process crashed, nothing was deleted). */
  crash?: CrashView;
}

export interface LoadRenderOptions {
  width?: number;
  paint?: PodPaint;
}

const signed = (seconds: number, digits: number) =>
  `${seconds < 0 ? '-' : '+'}${Math.abs(seconds).toFixed(digits)}`;

function markText(mark: LoadMark, force: boolean): string {
  const id = replicaId(mark.pod);
  switch (mark.event) {
    case 'deleted':
      return `${id} deleted${force ? ' with grace 0 (--force)' : ''}`;
    case 'ready':
      return `${id} ready, in the Service's endpoints`;
    case 'gone':
      return force ? `${id} gone from the API at once` : `${id} gone: its process has ended`;
    case 'crashed':
      return `${id} crashed: its process exited, its pod still Ready`;
    case 'not-ready':
      return `${id} not Ready: its kubelet noticed, the Service stops sending to it`;
    case 'restarted':
      return `${id} restarted in the same pod`;
    case 'ready-again':
      return `${id} Ready again, back in the Service's endpoints`;
  }
}

/** The slots of the pods column: each pod's replica id in its own place, or blanks. */
function podCells(row: LoadSecond, pods: readonly string[], paint: PodPaint): string {
  return pods
    .map((pod) => {
      const id = replicaId(pod);
      return (row.pods[pod] ?? 0) > 0 ? paint(pod, id) : ' '.repeat(id.length);
    })
    .join(' ')
    .trimEnd();
}

/**
 * The table, with a line for each moment of the kill put before the row of the second it
 * fell in. Where the pods' columns do not fit, the number of pods that answered instead.
 */
export function loadTable(
  view: LoadView,
  color: ChalkInstance,
  { width, paint = (_pod, text = _pod) => text }: LoadRenderOptions = {},
): string[] {
  const { report } = view;
  const headers = ['SEC', 'REQS', 'FAILED', 'PODS THAT ANSWERED'].map((h) => color.bold(h));
  const common = (row: LoadSecond) => [
    row.second < 0 ? String(row.second) : `+${row.second}`,
    String(row.requests),
    row.failed > 0 ? color.red(String(row.failed)) : '0',
  ];
  const options = { gap: 2, indent: '  ', align: ['right', 'right', 'right', 'left'] as const };
  const variants: TableVariant[] = [
    {
      headers,
      rows: report.seconds.map((row) => [...common(row), podCells(row, report.pods, paint)]),
      options: { ...options, align: [...options.align] },
    },
    {
      headers: [...headers.slice(0, 3), color.bold('PODS')],
      rows: report.seconds.map((row) => [
        ...common(row),
        String(Object.values(row.pods).filter((n) => n > 0).length),
      ]),
      options: { ...options, align: [...options.align] },
    },
  ];
  const lines = fitTable(variants, width);
  const marks = [...view.marks].sort((a, b) => a.atSeconds - b.atSeconds);
  const out: string[] = [lines[0] ?? ''];
  report.seconds.forEach((row, i) => {
    for (const mark of marks.filter((m) => Math.floor(m.atSeconds) === row.second)) {
      const text = `  ▸ ${signed(mark.atSeconds, 2)} s  ${paint(mark.pod, markText(mark, view.force))}`;
      out.push(...wrapLine(text, width ?? TEXT_WIDTH));
    }
    out.push(lines[i + 1] ?? '');
  });
  return out;
}

function failureWords(view: LoadView, moment = 'the kill'): string {
  const { report, curlErrors } = view;
  const between = report.failedBetween;
  const when = between
    ? between.first === between.last
      ? `${signed(between.first, 2)} s after ${moment}`
      : `between ${signed(between.first, 2)} s and ${signed(between.last, 2)} s after ${moment}`
    : '';
  const top = curlErrors[0];
  const why = top ? ` (${top.count} × curl (${top.code}) ${top.message})` : '';
  return `${report.failed} of ${report.requests} requests failed, ${when}${why}.`;
}

const ms = (seconds: number) => `${Math.round(seconds * 1000)} ms`;

/** A crash: why requests failed (or did not), and what could and could not have helped. */
function explainCrash(view: LoadView, crash: CrashView): string[] {
  const { report, victim } = view;
  const id = replicaId(victim);
  const noticed =
    crash.notReadySeconds === null
      ? 'When its kubelet noticed the dead container'
      : `Its kubelet noticed the dead container ${ms(crash.notReadySeconds)} after the crash (it lists the containers every second)`;
  const count = crash.restartCount ?? 1;
  // A container that crashed again soon after its last restart waits out a back-off first.
  const backOff =
    count > 1
      ? `; it had crashed not long before, so the kubelet first waited out a back-off (CrashLoopBackOff, 10 s doubling each time)`
      : '';
  const restarted =
    crash.restartedSeconds === null
      ? 'restarted the container in the same pod'
      : `restarted the container in the same pod (restart count ${count}, seen ${crash.restartedSeconds.toFixed(2)} s after the crash${backOff})`;
  const readyAgain =
    crash.readyAgainSeconds === null
      ? ''
      : `, and once its readiness probe passed, ${crash.readyAgainSeconds.toFixed(2)} s after the crash, ${id} took its share again`;
  const first =
    report.failed > 0
      ? `${failureWords(view, 'the crash')} ${id}'s process died while its pod was still Ready: requests it was answering were cut, and the Service went on sending it new connections, which found nothing listening at its address any more and were refused (or reset).`
      : `0 of ${report.requests} requests failed: none happened to be sent to ${id} between its crash and the moment it left the endpoints.`;
  const probe = crash.readiness
    ? `a readiness probe asks only every ${crash.readiness.periodSeconds} s and needs ${crash.readiness.failureThreshold} failures, and the kubelet learns of a dead container sooner`
    : 'a readiness probe asks only every few seconds, and the kubelet learns of a dead container sooner';
  return [
    `${first} ${noticed} and marked the pod not Ready, which took it out of the Service's endpoints; kube-proxy stopped sending to it a moment later. It then ${restarted}${readyAgain}: no new pod, and nothing for the ReplicaSet to do.`,
    `Nothing in the pod could have saved those requests: ${probe}; a preStop hook and a graceful shutdown run only when Kubernetes stops a pod, never when its process dies. What helps is more replicas: each takes a smaller share of the new connections (1 in ${crash.replicas} here), so a crash loses a smaller share of the requests until its kubelet notices.`,
  ];
}

/** What the rows mean, in plain words: why nothing failed, or why some did. */
export function explainLoad(view: LoadView): string[] {
  if (view.crash) return explainCrash(view, view.crash);
  const { report, victim, force, preStopSeconds } = view;
  const id = replicaId(victim);
  const lastAt = report.victimLastAnswer;
  const last =
    lastAt === null || lastAt < 0
      ? `it answered nothing after the kill`
      : `its last answer was to a request sent ${lastAt < 1 ? `${Math.round(lastAt * 1000)} ms` : `${lastAt.toFixed(2)} s`} after the kill`;
  if (report.failed > 0) {
    return [
      `${failureWords(view)} ${force ? `With --force the pod was deleted with grace 0: it was removed` : `The pod was stopped`} before the endpoints controller and kube-proxy had stopped sending new connections to it, so connections the Service still sent to ${id} found nothing listening, and requests it had in flight were cut.`,
    ];
  }
  if (force) {
    return [
      `0 of ${report.requests} requests failed, even with --force. The API removed ${id} at once, with no terminating phase and no preStop hook, and kube-proxy stopped sending new connections to it at once too: ${last}. The kubelet stops the process of a pod deleted this way only when it notices, about a second later on a small cluster (SIGTERM, SIGKILL 2 s on), by which time no request was on its way to it.`,
      'A forced deletion loses requests when the process stops before every node has stopped sending to it: a busy or large cluster whose kube-proxies take longer, a load balancer outside the cluster, or a server that exits on SIGTERM in the middle of requests.',
    ];
  }
  const hook =
    preStopSeconds !== undefined
      ? `its preStop hook kept it serving for ${preStopSeconds} s before SIGTERM, so connections already on their way still found it, and the server finished the requests in flight before it exited`
      : 'the server finished the requests in flight before it exited';
  return [
    `0 of ${report.requests} requests failed. ${id} left the Service's endpoints as soon as it began terminating, and kube-proxy stopped sending new connections to it: ${last}. Then ${hook}.`,
  ];
}

/** The whole report: a title, the table, the totals and what they mean. */
export function renderLoad(
  view: LoadView,
  color: ChalkInstance,
  options: LoadRenderOptions = {},
): string[] {
  const prose = options.width ?? TEXT_WIDTH;
  const { report } = view;
  const failed =
    report.failed === 0 ? color.green('0 failed') : color.red(`${report.failed} failed`);
  return [
    ...wrapLine(
      color.bold(
        `Requests per second through the Service (second 0 begins at the ${view.crash ? 'crash' : 'kill'}):`,
      ),
      prose,
    ),
    ...loadTable(view, color, options),
    ...wrapLine(`  total ${report.requests} requests, ${failed}`, prose),
    ...explainLoad(view).flatMap((text) => paragraph(text, prose)),
  ];
}
