import { readFile } from 'node:fs/promises';
import { writeHomeFile } from './home.js';
import path from 'node:path';
import type { Context } from './context.js';
import { assignColours } from './core/colours.js';
import { podPainter, type PodPaint } from './render/colours.js';

/**
 * The colours pods had in earlier commands, in `<home>/pod-colours.json`, so a pod looks
 * the same in `blast`, then in `kill-pod`, then in the next `blast`. Best-effort: a file
 * that cannot be read or written only costs that memory, never the command.
 */

const COLOURS_FILE = 'pod-colours.json';

function coloursPath(home: string): string {
  return path.join(home, COLOURS_FILE);
}

/** The colours remembered from earlier commands (none when there is no readable file). */
export async function rememberedColours(home: string): Promise<Record<string, number>> {
  try {
    const parsed: unknown = JSON.parse(await readFile(coloursPath(home), 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    return Object.fromEntries(
      Object.entries(parsed).filter(
        (entry): entry is [string, number] => typeof entry[1] === 'number',
      ),
    );
  } catch {
    return {};
  }
}

/** Keeps `colours` for the next command (written whole, then renamed into place). */
export async function rememberColours(
  home: string,
  colours: Readonly<Record<string, number>>,
): Promise<void> {
  try {
    await writeHomeFile(home, COLOURS_FILE, colours);
  } catch {
    // Colours are a courtesy: the command goes on with them unremembered.
  }
}

/** The painter for `live` pods (all the pods the command shows), remembering new ones. */
export async function podColours(
  ctx: Pick<Context, 'home' | 'printer'>,
  live: readonly string[],
): Promise<PodPaint> {
  const before = await rememberedColours(ctx.home);
  const colours = assignColours(before, live);
  if (JSON.stringify(colours) !== JSON.stringify(before)) await rememberColours(ctx.home, colours);
  return podPainter(ctx.printer.color, colours);
}
