import { readFile } from 'node:fs/promises';
import { writeHomeFile } from './home.js';
import path from 'node:path';
import type { Context } from './context.js';
import type { BlastResult } from './render/blast.js';
import type { Target } from './target.js';

/**
 * What the last blast found, in `<home>/last-blast.json`, for `status`. Best-effort like the
 * pods' colours: a file that cannot be written costs only this summary.
 */

export interface LastBlast {
  at: string;
  context: string;
  namespace: string;
  count: number;
  partial: boolean;
  service: { total: number; errors: number; podsReached: number; verdict: string } | null;
  portForward: { pod: string; total: number; errors: number } | null;
}

const LAST_BLAST_FILE = 'last-blast.json';

function file(home: string): string {
  return path.join(home, LAST_BLAST_FILE);
}

export function summarizeBlast(result: BlastResult, target: Target, at: Date): LastBlast {
  const s = result.service;
  const p = result.portForward;
  return {
    at: at.toISOString(),
    context: target.context,
    namespace: target.namespace,
    count: result.count,
    partial: Boolean(s?.partial ?? p?.partial),
    service: s
      ? {
          total: s.histogram.total,
          errors: s.histogram.errors,
          podsReached: s.histogram.rows.filter((r) => r.count > 0).length,
          verdict: s.evenness.verdict,
        }
      : null,
    portForward: p ? { pod: p.pod, total: p.histogram.total, errors: p.histogram.errors } : null,
  };
}

export async function rememberBlast(ctx: Pick<Context, 'home'>, blast: LastBlast): Promise<void> {
  try {
    await writeHomeFile(ctx.home, LAST_BLAST_FILE, blast);
  } catch {
    // Only `status` reads it; the blast itself is done.
  }
}

/** The last blast on this context and namespace, if one is remembered. */
export async function lastBlast(
  ctx: Pick<Context, 'home'>,
  target: Pick<Target, 'context' | 'namespace'>,
): Promise<LastBlast | undefined> {
  try {
    const value = JSON.parse(await readFile(file(ctx.home), 'utf8')) as Partial<LastBlast>;
    if (
      value.context === target.context &&
      value.namespace === target.namespace &&
      typeof value.at === 'string' &&
      typeof value.count === 'number'
    ) {
      return value as LastBlast;
    }
  } catch {
    // None remembered, or a damaged file: as if no blast had run.
  }
  return undefined;
}
