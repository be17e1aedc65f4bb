import { randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * What keeps the page to the person who started it. It listens on 127.0.0.1 only; the Host
 * header must name the loopback address or localhost with our port (a DNS-rebinding page
 * sends its own name); every request that changes the cluster carries the token from the
 * printed URL and comes from the page's own origin. No CORS header is ever sent, so no
 * other origin reads an answer.
 */

export const TOKEN_HEADER = 'x-replica-demo-token';

/** A new token per run: 128 bits, URL-safe. */
export function newToken(): string {
  return randomBytes(16).toString('hex');
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost'];

export function hostAllowed(host: string | undefined, port: number): boolean {
  if (host === undefined) return false;
  return LOOPBACK_NAMES.some((name) => host.toLowerCase() === `${name}:${port}`);
}

/** The Origin of a request from our own page: http, a loopback name, our port, its Host. */
export function sameOrigin(
  origin: string | undefined,
  host: string | undefined,
  port: number,
): boolean {
  if (origin === undefined || host === undefined || !hostAllowed(host, port)) return false;
  return origin.toLowerCase() === `http://${host.toLowerCase()}`;
}

/** Compared in constant time, so the token cannot be guessed a character at a time. */
export function tokenMatches(given: unknown, token: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
