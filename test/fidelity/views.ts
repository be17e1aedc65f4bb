/** Views of an answer: the part a case compares, where the whole holds what varies by run. */

type Json = Record<string, unknown>;

export const json =
  (pick: (doc: Json) => unknown) =>
  (stdout: string): string =>
    JSON.stringify(pick(JSON.parse(stdout) as Json), null, 2);

export const lastLine = (stdout: string): string => stdout.trim().split('\n').at(-1) ?? '';

export const sortedLines = (stdout: string): string => stdout.trim().split('\n').sort().join('\n');

/** A watch stream: one `TYPE Kind name` (or the error's reason and code) per event. */
export const watchEvents = (stdout: string): string =>
  stdout
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const e = JSON.parse(l) as {
        type: string;
        object: { kind?: string; metadata?: { name?: string }; reason?: string; code?: number };
      };
      const o = e.object;
      return e.type === 'ERROR'
        ? `ERROR ${o.reason ?? ''} ${String(o.code)}`
        : `${e.type} ${o.kind ?? ''} ${o.metadata?.name ?? ''}`;
    })
    .sort()
    .join('\n');

export const items = (doc: Json): Json[] => (doc.items as Json[] | undefined) ?? [];

export const names = (list: unknown): string[] =>
  ((list as { name: string }[] | undefined) ?? []).map((r) => r.name).sort();

export function path(doc: unknown, ...keys: (string | number)[]): unknown {
  let at: unknown = doc;
  for (const key of keys) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string | number, unknown>)[key];
  }
  return at;
}
