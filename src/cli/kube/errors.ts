import * as k8s from '@kubernetes/client-node';
import { ExitCode, OperationError, PrerequisiteError, ReplicaDemoError } from '../errors.js';
import type { Target } from '../target.js';

/**
 * The one place where a failed API call becomes the error a user reads. Everything under
 * kube/ translates through `translateApiError`; commands only ever see ReplicaDemoErrors.
 */

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

/** The HTTP status of a failed call: typed API calls and watches carry it differently. */
export function apiErrorCode(error: unknown): number | undefined {
  if (error instanceof k8s.ApiException) return error.code;
  const code = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

export function isNotFound(error: unknown): boolean {
  return apiErrorCode(error) === 404;
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EPIPE',
]);

/** A network-level failure (nothing answered), as opposed to the API saying no. */
export function isUnreachable(error: unknown): boolean {
  if (error instanceof k8s.ApiException) return false;
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    const code = (current as NodeJS.ErrnoException).code;
    if (code && UNREACHABLE_CODES.has(code)) return true;
    if ((current as { type?: string }).type === 'system') return true;
    current = (current as Error & { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Worth trying again: nothing answered, a connection dropped mid-stream, or the server said
 * it is busy or broken for now.
 */
export function isTransient(error: unknown): boolean {
  const code = apiErrorCode(error);
  const dropped = (error as NodeJS.ErrnoException | null)?.code === 'ERR_STREAM_PREMATURE_CLOSE';
  return dropped || isUnreachable(error) || code === 429 || (code !== undefined && code >= 500);
}

export interface TranslateOptions {
  /**
   * The object is one `up` creates: its absence means `up` has not run here (or `down` ran),
   * which is said as such.
   */
  madeByUp?: boolean;
}

/**
 * `what` completes "Could not ...": "read Service web-server-service". The target shapes the
 * hint: the embedded cluster is started with `up --sim`, any other is checked with kubectl.
 */
export function translateApiError(
  error: unknown,
  what: string,
  target: Pick<Target, 'mode' | 'context' | 'namespace'>,
  options: TranslateOptions = {},
): ReplicaDemoError {
  if (error instanceof ReplicaDemoError) return error;
  if (isUnreachable(error)) {
    return new PrerequisiteError(
      `Could not ${what}: the API server of context ${target.context} is not reachable (${apiErrorMessage(error)}).`,
      ExitCode.ClusterUnreachable,
      target.mode === 'sim'
        ? 'Start the embedded cluster with `replica-demo up --sim`.'
        : `Check that the cluster runs (\`kubectl --context ${target.context} cluster-info\`).`,
    );
  }
  if (options.madeByUp && isNotFound(error)) {
    return new OperationError(
      `Could not ${what}: it does not exist in namespace ${target.namespace}.`,
      'Run `replica-demo up` first.',
    );
  }
  return new OperationError(`Could not ${what}: ${apiErrorMessage(error)}`);
}
