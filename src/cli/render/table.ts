import Table from 'cli-table3';

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
