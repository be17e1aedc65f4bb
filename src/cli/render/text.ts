import { stripVTControlCharacters } from 'node:util';

/** Width of prose in logs and pipes, where no terminal says how wide it is. */
export const TEXT_WIDTH = 92;

/** Columns a string takes on screen: colour codes take none. */
export function visibleWidth(text: string): number {
  return [...stripVTControlCharacters(text)].length;
}

/** Cuts `text` to `width` columns, ending in "…" when it had to cut. */
export function truncate(text: string, width: number): string {
  if (visibleWidth(text) <= width) return text;
  const plain = [...stripVTControlCharacters(text)];
  return `${plain.slice(0, Math.max(0, width - 1)).join('')}…`;
}

/**
 * One line made to fit `width`: broken at spaces, each continuation indented like the
 * line itself; a word longer than a whole line (a pod name at 60 columns) is broken.
 */
export function wrapLine(line: string, width: number): string[] {
  if (visibleWidth(line) <= width) return [line];
  const indent = /^\s*/.exec(line)?.[0] ?? '';
  const words = line.slice(indent.length).split(' ');
  const out: string[] = [];
  let current = indent;
  let empty = true;
  for (const word of words) {
    const joined = empty ? `${current}${word}` : `${current} ${word}`;
    if (visibleWidth(joined) <= width) {
      current = joined;
      empty = false;
      continue;
    }
    if (!empty) out.push(current);
    current = indent + word;
    empty = false;
    // Broken where the line ends, so the word reads whole across the break.
    while (visibleWidth(current) > width && width > indent.length + 1) {
      const plain = [...stripVTControlCharacters(current)];
      out.push(plain.slice(0, width).join(''));
      current = indent + plain.slice(width).join('');
    }
  }
  if (!empty) out.push(current);
  return out;
}

/** A paragraph of prose, wrapped to `width`, every line starting with `indent`. */
export function paragraph(text: string, width: number, indent = '  '): string[] {
  return wrapLine(`${indent}${text}`, width);
}
