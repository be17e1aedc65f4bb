import type { ChalkInstance } from 'chalk';
import type { CurlError } from '../core/curl-log.js';
import type { Histogram } from '../core/histogram.js';
import type { Evenness, Latency } from '../core/stats.js';
import { proxyModeSentence, type ProxyMode } from '../core/proxy-mode.js';
import type { PodPaint } from './colours.js';
import { pick, table, type Align } from './table.js';
import { TEXT_WIDTH, paragraph, visibleWidth, wrapLine } from './text.js';

/** Plain text, one line per string: readable in a terminal and in a CI log alike. */

export interface PathResult {
  /** Set when Ctrl-C stopped the leg: `histogram.total` requests of `requested` were sent. */
  partial?: { requested: number };
  histogram: Histogram;
  latencyMs: Latency | null;
  evenness: Evenness;
  curlErrors: CurlError[];
}

export interface ServiceResult extends PathResult {
  keepAlive: boolean;
  parallel: number;
  jobName: string;
  podsCreated: number;
  /** The Service's `sessionAffinity`: `ClientIP` pins the one client, the Job's pod, to one pod. */
  sessionAffinity?: string;
  /** How the cluster's Service proxy picks a pod, when it could be read. */
  proxyMode?: ProxyMode;
}

export interface PortForwardResult extends PathResult {
  pod: string;
  reason: string;
}

export interface BlastResult {
  count: number;
  service: ServiceResult | null;
  portForward: PortForwardResult | null;
}

const BAR_WIDTH = 30;

export function bar(count: number, max: number, width = BAR_WIDTH): string {
  if (max <= 0 || count <= 0 || width <= 0) return '';
  return '█'.repeat(Math.max(1, Math.round((count / max) * width)));
}

/** A bar narrower than this says little; columns go first to make room for it. */
const MIN_BAR = 10;

/**
 * Count, share and a bar per pod. Without a width (logs, pipes) every column and a 30-wide
 * bar; on a narrow terminal POD goes first (REPLICA is its last part), then NODE, and the
 * bar takes what is left.
 */
export function histogramTable(
  histogram: Histogram,
  color: ChalkInstance,
  width?: number,
  paint: PodPaint = (pod, text = pod) => color.cyan(text),
): string[] {
  const max = Math.max(0, ...histogram.rows.map((r) => r.count));
  const layouts = [
    [0, 1, 2, 3, 4],
    [1, 2, 3, 4],
    [1, 3, 4],
  ];
  const align: Align[] = ['left', 'left', 'left', 'right', 'right'];
  const headers = ['POD', 'REPLICA', 'NODE', 'COUNT', '%'].map((h) => color.bold(h));
  const options = (keep: number[]) => ({
    gap: 2,
    indent: '  ',
    align: [...pick(align, keep), 'left' as const],
  });
  for (const [n, keep] of layouts.entries()) {
    const withPod = keep.includes(0);
    const rows = histogram.rows.map((r) =>
      pick(
        [
          paint(r.pod) + (r.ready ? '' : ' (not ready)'),
          paint(r.pod, r.replicaId) + (r.ready || withPod ? '' : ' (not ready)'),
          r.node,
          String(r.count),
          r.percent.toFixed(1),
        ],
        keep,
      ),
    );
    const used = Math.max(...table(pick(headers, keep), rows, options(keep)).map(visibleWidth));
    const room = width === undefined ? BAR_WIDTH : Math.min(BAR_WIDTH, width - used - 2);
    if (room < MIN_BAR && n < layouts.length - 1) continue;
    const bars = histogram.rows.map((r) => paint(r.pod, bar(r.count, max, Math.max(0, room))));
    return table(
      [...pick(headers, keep), ''],
      rows.map((row, i) => [...row, bars[i] ?? '']),
      options(keep),
    );
  }
  return [];
}

function summaryLines(result: PathResult, color: ChalkInstance): string[] {
  const h = result.histogram;
  const out: string[] = [];
  const errorText =
    h.errors === 0
      ? color.green('0 errors')
      : color.red(`${h.errors} error${h.errors === 1 ? '' : 's'}`);
  out.push(`  total ${h.total} requests, ${h.answered} answered by a pod, ${errorText}`);
  if (result.partial) {
    out.push(
      color.yellow(
        `  partial: stopped by Ctrl-C after ${h.total} of ${result.partial.requested} requests`,
      ),
    );
  }
  if (h.errors > 0) {
    const parts: string[] = [];
    if (h.failedConnections > 0) parts.push(`${h.failedConnections} got no response`);
    for (const s of h.statuses) parts.push(`${s.count} × HTTP ${s.status}`);
    out.push(`  errors: ${parts.join(', ')}`);
    for (const e of result.curlErrors.slice(0, 3)) {
      out.push(`    ${e.count} × ${e.code > 0 ? `curl (${e.code}) ` : ''}${e.message}`);
    }
  }
  if (h.unnamed > 0) out.push(`  ${h.unnamed} responses carried no X-Pod-Name header`);
  if (result.latencyMs) {
    const l = result.latencyMs;
    out.push(`  latency p50 ${l.p50} ms, p95 ${l.p95} ms, max ${l.max} ms`);
  }
  return out;
}

/**
 * How wide to draw: on a terminal, its width for everything; in a log or a pipe (no
 * width), tables at their natural width and prose at TEXT_WIDTH.
 */
export interface RenderWidth {
  width?: number;
  /** Each pod in its own colour (the same in every command); cyan for all without it. */
  paint?: PodPaint;
}

function draw(
  title: string,
  table: string[],
  lines: string[],
  paragraphs: string[],
  { width }: RenderWidth,
): string[] {
  const prose = width ?? TEXT_WIDTH;
  return [
    ...wrapLine(title, prose),
    ...table,
    ...lines.flatMap((l) => wrapLine(l, prose)),
    ...paragraphs.flatMap((p) => paragraph(p, prose)),
  ];
}

/**
 * What a leg's report says in words: its title, the totals and latency, and what they mean.
 * The terminal draws it around the histogram table; the dashboard around its bars.
 */
export interface LegText {
  title: string;
  lines: string[];
  paragraphs: string[];
}

export function serviceText(result: ServiceResult, color: ChalkInstance): LegText {
  const how = result.keepAlive
    ? 'one kept-alive connection'
    : `a new connection per request${result.parallel > 1 ? `, ${result.parallel} at a time` : ''}`;
  const title = color.bold(
    `Through the Service (${how}; Job ${result.jobName}, ${result.podsCreated} pod):`,
  );
  const said: string[] = [];
  if (result.sessionAffinity === 'ClientIP') {
    // Affinity, not chance, decides here: neither the evenness test nor "why it spreads" applies.
    said.push(
      "The Service has sessionAffinity: ClientIP, so kube-proxy sends every connection from one client address (here the Job's one pod) to the same pod, by default for 10800 s.",
    );
  } else if (!result.keepAlive) {
    said.push(result.evenness.sentence);
    const pods = result.histogram.rows.length;
    // Only news to someone whose blast was too small to look even.
    if (pods > 1 && result.histogram.total < result.evenness.evenAt) {
      said.push(
        `An even-looking split needs about ${result.evenness.evenAt} requests for ${pods} pods (each pod within ±10% of its share, 19 blasts in 20).`,
      );
    }
    said.push(...explainService(result.proxyMode));
  } else {
    said.push(...explainKeepAlive(result.histogram));
  }
  return { title, lines: summaryLines(result, color), paragraphs: said };
}

export function renderService(
  result: ServiceResult,
  color: ChalkInstance,
  size: RenderWidth = {},
): string[] {
  const text = serviceText(result, color);
  return draw(
    text.title,
    histogramTable(result.histogram, color, size.width, size.paint),
    text.lines,
    text.paragraphs,
    size,
  );
}

export function explainService(proxy?: ProxyMode): string[] {
  const how = proxy
    ? proxyModeSentence(proxy)
    : 'kube-proxy (iptables and nftables modes) picks a ready pod at random once per connection, not per request.';
  const chance =
    proxy?.mode === 'ipvs'
      ? ''
      : ' Random choice is uneven at small counts; that is chance, not a fault.';
  // The proxy's sentence stands alone in `status`; here it continues one.
  const continued = how.replace(/^(The|How) /, (word) => word.toLowerCase());
  return [
    `Why it spreads: every request opened its own TCP connection (Connection: close), and ${continued}${chance}`,
  ];
}

export function explainKeepAlive(histogram: Histogram): string[] {
  const reached = histogram.rows.filter((r) => r.count > 0).length;
  return [
    `Keep-alive: curl reused one connection for every request, so kube-proxy chose a pod once and every request rode that connection to the same pod (${reached} pod${reached === 1 ? '' : 's'} reached). The original lesson spread only because each \`kubectl run\` pod opened a fresh connection; clients with connection pools (browsers, HTTP libraries) stick to one pod the same way.`,
  ];
}

export function portForwardText(result: PortForwardResult, color: ChalkInstance): LegText {
  return {
    title: color.bold(`Through port-forward (to pod ${result.pod}):`),
    lines: summaryLines(result, color),
    paragraphs: explainPortForward(result.pod, result.reason),
  };
}

export function renderPortForward(
  result: PortForwardResult,
  color: ChalkInstance,
  size: RenderWidth = {},
): string[] {
  const text = portForwardText(result, color);
  return draw(
    text.title,
    histogramTable(result.histogram, color, size.width, size.paint),
    text.lines,
    text.paragraphs,
    size,
  );
}

export function explainPortForward(pod: string, reason: string): string[] {
  return [
    'Why one pod: `kubectl port-forward svc/web-server-service` resolves the Service to one pod, once, and tunnels to it through the API server and the kubelet. kube-proxy is never involved, so every request lands on that pod, and the tunnel dies when that pod goes.',
    `Why ${pod}: ${reason}.`,
  ];
}

export function renderBlast(
  result: BlastResult,
  color: ChalkInstance,
  size: RenderWidth = {},
): string[] {
  const out: string[] = [];
  if (result.service) out.push(...renderService(result.service, color, size));
  if (result.service && result.portForward) out.push('');
  if (result.portForward) out.push(...renderPortForward(result.portForward, color, size));
  return out;
}

interface JsonPod {
  pod: string;
  replicaId: string;
  node: string;
  count: number;
}

function jsonPods(histogram: Histogram): JsonPod[] {
  return histogram.rows.map((r) => ({
    pod: r.pod,
    replicaId: r.replicaId,
    node: r.node,
    count: r.count,
  }));
}

/** The `--json` document: the documented keys, nothing that would change from run to run in shape. */
export function blastJson(result: BlastResult): unknown {
  const s = result.service;
  const p = result.portForward;
  return {
    count: result.count,
    service: s
      ? {
          total: s.histogram.total,
          partial: s.partial !== undefined,
          errors: s.histogram.errors,
          pods: jsonPods(s.histogram),
          latencyMs: s.latencyMs,
          chiSquare: s.evenness.chiSquare
            ? { statistic: s.evenness.chiSquare.statistic, pValue: s.evenness.chiSquare.pValue }
            : null,
          verdict: s.evenness.verdict,
          keepAlive: s.keepAlive,
          proxyMode: s.proxyMode?.mode ?? 'unknown',
          job: s.jobName,
          podsCreated: s.podsCreated,
        }
      : null,
    portForward: p
      ? {
          pod: p.pod,
          total: p.histogram.total,
          partial: p.partial !== undefined,
          errors: p.histogram.errors,
          pods: jsonPods(p.histogram),
          latencyMs: p.latencyMs,
        }
      : null,
  };
}

/** One line naming how many requests failed on each path and the most common reason; undefined when none did. */
export function failureSummary(result: BlastResult): string | undefined {
  const failed: string[] = [];
  for (const [name, path] of [
    ['the Service', result.service],
    ['port-forward', result.portForward],
  ] as const) {
    if (!path || path.histogram.errors === 0) continue;
    const top = path.curlErrors[0];
    const status = path.histogram.statuses[0];
    const why = top
      ? `${top.count} × ${top.code > 0 ? `curl (${top.code}) ` : ''}${top.message}`
      : status
        ? `${status.count} × HTTP ${status.status}`
        : 'no response';
    failed.push(
      `${path.histogram.errors} of ${path.histogram.total} requests through ${name} failed (${why})`,
    );
  }
  return failed.length > 0 ? `${failed.join('; ')}.` : undefined;
}
