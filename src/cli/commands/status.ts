import type * as k8s from '@kubernetes/client-node';
import type { Context } from '../context.js';
import { ExitCode, StatusExit } from '../errors.js';
import type { TargetFlags } from '../core/flags.js';
import { DEPLOYMENT, SERVICE } from '../core/names.js';
import { proxyModeSentence, type ProxyMode } from '../core/proxy-mode.js';
import { connect } from '../kube/api.js';
import { lastBlast, type LastBlast } from '../last-blast.js';
import { describeTarget, noCluster, resolveTarget, type Target } from '../target.js';

/**
 * `replica-demo status`: where the lesson runs and whether it is ready, in one look. Exit 0
 * when it is up and every replica is ready; 14 when it is not (yet); 7 with no cluster.
 */

export interface StatusFlags extends TargetFlags {
  json?: boolean;
}

export interface LessonStatus {
  target: { mode: Target['mode']; context: string; cluster: string | null; namespace: string };
  deployment: { desired: number; ready: number; image: string | null } | null;
  service: { endpoints: number; clusterIP: string | null; port: number | null } | null;
  proxyMode: ProxyMode;
  lastBlast: LastBlast | null;
  ready: boolean;
}

function readyEndpoints(endpoints: k8s.V1Endpoints | undefined): number {
  return (endpoints?.subsets ?? []).reduce((n, s) => n + (s.addresses?.length ?? 0), 0);
}

export async function status(flags: StatusFlags, ctx: Context): Promise<LessonStatus> {
  const target = await resolveTarget(flags, ctx, { detect: true });
  if (target === undefined) throw noCluster();
  const api = connect(target);
  const [{ deployment, service }, endpoints, proxyMode, blast] = await Promise.all([
    api.findLesson(),
    api.readServiceEndpoints(),
    api.proxyMode(),
    lastBlast(ctx, target),
  ]);
  const desired = deployment?.spec?.replicas ?? 0;
  const readyReplicas = deployment?.status?.readyReplicas ?? 0;
  const endpointCount = readyEndpoints(endpoints);
  const result: LessonStatus = {
    target: {
      mode: target.mode,
      context: target.context,
      cluster: target.cluster ?? null,
      namespace: target.namespace,
    },
    deployment: deployment
      ? {
          desired,
          ready: readyReplicas,
          image: deployment.spec?.template.spec?.containers[0]?.image ?? null,
        }
      : null,
    service: service
      ? {
          endpoints: endpointCount,
          clusterIP: service.spec?.clusterIP ?? null,
          port: service.spec?.ports?.[0]?.port ?? null,
        }
      : null,
    proxyMode,
    lastBlast: blast ?? null,
    ready:
      deployment !== undefined && service !== undefined && desired > 0 && readyReplicas >= desired,
  };
  if (flags.json) ctx.printer.line(JSON.stringify(result));
  else for (const line of statusLines(result, target, ctx.now())) ctx.printer.line(line);
  if (!result.ready) throw new StatusExit('', ExitCode.NotReady);
  return result;
}

function ago(iso: string, now: number): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

function blastLine(blast: LastBlast, now: number): string {
  const parts: string[] = [];
  if (blast.service) {
    parts.push(
      `${blast.service.total} requests through the Service reached ${blast.service.podsReached} pod(s), ${blast.service.errors} errors (${blast.service.verdict})`,
    );
  }
  if (blast.portForward) {
    parts.push(
      `${blast.portForward.total} through port-forward to ${blast.portForward.pod}, ${blast.portForward.errors} errors`,
    );
  }
  return `Last blast:  ${ago(blast.at, now)}${blast.partial ? ' (partial)' : ''}: ${parts.join('; ')}.`;
}

function statusLines(s: LessonStatus, target: Target, now: number): string[] {
  const lines = [describeTarget(target).replace(/^Using /, 'Target:      ')];
  lines.push(
    s.deployment
      ? `Deployment:  ${DEPLOYMENT}, ${s.deployment.ready}/${s.deployment.desired} ready, image ${s.deployment.image ?? '?'}`
      : `Deployment:  ${DEPLOYMENT} is not in namespace ${target.namespace}.`,
  );
  lines.push(
    s.service
      ? `Service:     ${SERVICE}, ${s.service.endpoints} ready endpoint(s), ${s.service.clusterIP ?? '?'}:${s.service.port ?? '?'}`
      : `Service:     ${SERVICE} is not in namespace ${target.namespace}.`,
  );
  lines.push(`Proxy:       ${proxyModeSentence(s.proxyMode)}`);
  if (s.lastBlast) lines.push(blastLine(s.lastBlast, now));
  if (s.ready) lines.push('Ready: try `replica-demo blast --count 200`.');
  else if (!s.deployment || !s.service) lines.push('Not up: `replica-demo up` deploys the lesson.');
  else lines.push('Not ready yet: `replica-demo up` waits until every replica is.');
  return lines;
}
