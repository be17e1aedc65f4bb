import * as k8s from '@kubernetes/client-node';
import { ExitCode, OperationError, PrerequisiteError } from '../errors.js';
import { contextMissing, type Target } from '../target.js';

/**
 * The Kubernetes API clients for one run, bound to the context resolved once at the start.
 * A fresh KubeConfig per run: the context is set explicitly, never taken from whatever
 * `current-context` says at the moment of a call.
 */

export interface KubeClients {
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  batch: k8s.BatchV1Api;
}

export function kubeClients(target: Pick<Target, 'context' | 'kubeconfig'>): KubeClients {
  const kc = new k8s.KubeConfig();
  if (target.kubeconfig !== undefined) kc.loadFromFile(target.kubeconfig);
  else kc.loadFromDefault();
  if (kc.getContextObject(target.context) === null) throw contextMissing(target);
  kc.setCurrentContext(target.context);
  return {
    kc,
    core: kc.makeApiClient(k8s.CoreV1Api),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    batch: kc.makeApiClient(k8s.BatchV1Api),
  };
}

interface StatusBody {
  kind?: string;
  message?: string;
  reason?: string;
  code?: number;
}

function parseStatus(body: unknown): StatusBody | undefined {
  if (typeof body === 'object' && body !== null) return body;
  if (typeof body !== 'string' || body.trim() === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The API's own words for a failed call: a Status message when there is one. */
export function apiErrorMessage(error: unknown): string {
  if (error instanceof k8s.ApiException) {
    const status = parseStatus(error.body);
    if (status?.message) return status.message;
    const text = typeof error.body === 'string' ? error.body.trim() : '';
    return text !== '' ? `HTTP ${error.code}: ${text.slice(0, 200)}` : `HTTP ${error.code}`;
  }
  if (error instanceof Error) {
    // Connection failures carry the useful part in `cause` (ECONNREFUSED 127.0.0.1:6443).
    const cause = (error as Error & { cause?: unknown }).cause;
    const causeText =
      cause instanceof Error && cause.message !== error.message ? ` (${cause.message})` : '';
    return `${error.message}${causeText}`;
  }
  return String(error);
}

export function apiErrorCode(error: unknown): number | undefined {
  if (error instanceof k8s.ApiException) return error.code;
  return undefined;
}

export function isNotFound(error: unknown): boolean {
  return apiErrorCode(error) === 404;
}

export function isConflict(error: unknown): boolean {
  return apiErrorCode(error) === 409;
}

/** A network-level failure (nothing answered), as opposed to the API saying no. */
export function isUnreachable(error: unknown): boolean {
  if (error instanceof k8s.ApiException) return false;
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    const code = (current as NodeJS.ErrnoException).code;
    if (
      code &&
      [
        'ECONNREFUSED',
        'ECONNRESET',
        'EHOSTUNREACH',
        'ENOTFOUND',
        'ETIMEDOUT',
        'EAI_AGAIN',
      ].includes(code)
    ) {
      return true;
    }
    if ((current as { type?: string }).type === 'system') return true;
    current = (current as Error & { cause?: unknown }).cause;
  }
  return false;
}

/**
 * The error to show when reading the objects `up` creates failed: missing objects mean `up`
 * has not run here; an unreachable server means no cluster answers.
 */
export function lessonReadError(error: unknown, what: string, namespace: string): Error {
  if (isNotFound(error)) {
    return new OperationError(
      `${what} was not found in namespace ${namespace}.`,
      'Run `replica-demo up` first.',
    );
  }
  if (isUnreachable(error)) {
    return new PrerequisiteError(
      `Cannot reach the cluster's API server: ${apiErrorMessage(error)}.`,
      ExitCode.ClusterUnreachable,
      'Check that the cluster runs (`kubectl cluster-info`), or run `replica-demo up` first.',
    );
  }
  return new OperationError(`Could not read ${what}: ${apiErrorMessage(error)}`);
}
