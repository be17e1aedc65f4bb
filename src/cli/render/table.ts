import Table from 'cli-table3';
import { truncate, visibleWidth } from './text.js';

/**
 * Tables, drawn by cli-table3: boxed for a terminal, or plain aligned columns (like
 * kubectl's) for logs and pipes. Cells may carry colour; widths count what is visible.
 */

export type Align = 'left' | 'right';

export interface TableOptions {
  boxed?: boolean;
  /** Spaces between plain columns. */
  gap?: number;
  align?: Align[];
  /** Put in front of every plain line (an indent). */
  indent?: string;
}

const NO_BORDER = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
};

export function table(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  options: TableOptions = {},
): string[] {
  const align = options.align ?? [];
  const common = {
    head: [...headers],
    colAligns: headers.map((_, i) => align[i] ?? 'left'),
    style: { head: [], border: [] },
  };
  const drawn = options.boxed
    ? new Table(common)
    : new Table({
        ...common,
        chars: { ...NO_BORDER, middle: ' '.repeat(options.gap ?? 3) },
        style: { ...common.style, 'padding-left': 0, 'padding-right': 0 },
      });
  for (const row of rows) drawn.push([...row]);
  const lines = drawn.toString().split('\n');
  if (options.boxed) return lines;
  return lines.map((line) => `${options.indent ?? ''}${line}`.trimEnd());
}

export interface TableVariant {
  headers: readonly string[];
  rows: readonly (readonly string[])[];
  options: TableOptions;
}

/**
 * The first variant whose every line fits `width` (each next variant drops a column or its
 * box); when none fits, the last one with its lines cut to the width. No width: the first.
 */
export function fitTable(variants: readonly TableVariant[], width: number | undefined): string[] {
  let lines: string[] = [];
  for (const v of variants) {
    lines = table(v.headers, v.rows, v.options);
    if (width === undefined || lines.every((l) => visibleWidth(l) <= width)) return lines;
  }
  return lines.map((l) => truncate(l, width ?? Infinity));
}

/** The columns of `row` at `keep`, in that order. */
export function pick<T>(row: readonly T[], keep: readonly number[]): T[] {
  return keep.map((i) => row[i] as T);
}
