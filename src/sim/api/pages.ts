import type { KubeObject } from '../store.js';
import { ApiError } from './status.js';

/**
 * Pages of a list, as the real API server hands them out: the continue token names the key
 * of the last item given (and the resourceVersion of the list), and the next page starts
 * after that key. An item deleted between two pages so skips nothing, as it would when the
 * pages were counted by offset.
 */

const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export function continueToken(last: KubeObject, resourceVersion: string): string {
  const token = { v: 'meta.k8s.io/v1', rv: Number(resourceVersion), start: `${keyOf(last)}\u0000` };
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function invalid(why: string): ApiError {
  return new ApiError(
    400,
    'BadRequest',
    `invalid continue token: continue key is not valid: ${why}`,
  );
}

/** A character as Go's JSON decoder quotes it in its errors: `'~'`, `'\\''`, `'\\x00'`. */
function quoteChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '"') return "'\"'";
  const code = c.codePointAt(0) ?? 0;
  if (code >= 0x20 && code < 0x7f) return `'${c}'`;
  return code < 0x100
    ? `'\\x${code.toString(16).padStart(2, '0')}'`
    : `'\\u${code.toString(16).padStart(4, '0')}'`;
}

/**
 * Why a token's text is not JSON, in Go's words where they differ from JavaScript's
 * (the API server is written in Go), for the two common cases: nothing, and a first
 * character that cannot start a value.
 */
function jsonSyntaxError(text: string, error: unknown): string {
  const start = text.replace(/^[ \t\r\n]+/, '');
  if (start === '') return 'unexpected end of JSON input';
  const first = String.fromCodePoint(start.codePointAt(0) ?? 0);
  if (!/^[{["\-0-9tfn]$/.test(first))
    return `invalid character ${quoteChar(first)} looking for beginning of value`;
  return (error as Error).message;
}

/** The items (sorted by key, as the store lists them) after the token's key. */
export function itemsAfter(items: KubeObject[], token: string): KubeObject[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch (error) {
    throw invalid(jsonSyntaxError(Buffer.from(token, 'base64url').toString('utf8'), error));
  }
  const start = (parsed as { start?: unknown } | null)?.start;
  if ((parsed as { v?: unknown } | null)?.v !== 'meta.k8s.io/v1' || typeof start !== 'string')
    throw invalid('incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  const after = start.endsWith('\u0000') ? start.slice(0, -1) : start;
  return items.filter((o) => keyOf(o).localeCompare(after) > 0);
}
