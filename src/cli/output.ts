import { Chalk, type ChalkInstance } from 'chalk';
import type { Writable } from 'node:stream';
import type { Ora, Options as OraOptions } from 'ora';
import { truncate, wrapLine } from './render/text.js';

export interface Progress {
  /** New status text; a spinner redraws it, a log prints it when it changed. */
  update(text: string): void;
  succeed(text: string): void;
  fail(text: string): void;
  /** Stop without a final line (used on Ctrl-C before the summary is printed). */
  stop(): void;
}

export interface Printer {
  readonly color: ChalkInstance;
  readonly interactive: boolean;
  /** Columns of the terminal stdout goes to; undefined for a log or a pipe. */
  readonly width: number | undefined;
  /** A line of the command's result, on stdout. */
  line(text?: string): void;
  /** A line about progress or trouble, on stderr, so stdout stays clean for --json. */
  note(text: string): void;
  progress(text: string): Progress;
  /**
   * Loads the terminal spinner (ora) when output goes to a terminal. Commands run after it;
   * `--help` never pays for it. Until it has run, progress is printed as plain lines.
   */
  prepare(): Promise<void>;
}

export interface PrinterOptions {
  stdout: Writable;
  stderr: Writable;
  /** A terminal: spinners and cursor movement allowed. */
  interactive: boolean;
  color: boolean;
  /** Milliseconds between repeated plain progress lines of unchanged text. */
  quietMs?: number;
  now?: () => number;
  /** Columns of each stream when it is a terminal (read at each write: windows resize). */
  stdoutWidth?: () => number | undefined;
  stderrWidth?: () => number | undefined;
}

/**
 * For `--json`: the same printer with the result lines sent to stderr, so stdout carries
 * the one JSON object and nothing else.
 */
export function quietStdout(printer: Printer): Printer {
  return {
    color: printer.color,
    interactive: printer.interactive,
    get width() {
      return undefined;
    },
    line: (text) => printer.note(text ?? ''),
    note: (text) => printer.note(text),
    progress: (text) => printer.progress(text),
    prepare: () => printer.prepare(),
  };
}

/** Text as it goes to a stream: each line wrapped to the terminal's width, if there is one. */
function fitted(text: string, width: number | undefined): string {
  if (width === undefined) return text;
  return text
    .split('\n')
    .flatMap((line) => wrapLine(line, width))
    .join('\n');
}

type OraFactory = (options: OraOptions) => Ora;

export function createPrinter(options: PrinterOptions): Printer {
  const color = new Chalk({ level: options.color ? 1 : 0 });
  const now = options.now ?? Date.now;
  const write = (stream: Writable, text: string) => stream.write(`${text}\n`);
  const stdoutWidth = options.stdoutWidth ?? (() => undefined);
  const stderrWidth = options.stderrWidth ?? (() => undefined);
  let ora: OraFactory | undefined;

  const progress = (initial: string): Progress =>
    // ora counts the lines it drew by the terminal's width: with none known (a
    // pseudo-terminal may say 0 columns) it would clear without end; plain lines instead.
    options.interactive && ora && stderrWidth() !== undefined
      ? spinner(ora, options.stderr, initial, color, options.color, stderrWidth)
      : plainProgress((t) => write(options.stderr, t), initial, now, options.quietMs ?? 5000);

  return {
    color,
    interactive: options.interactive,
    get width() {
      return stdoutWidth();
    },
    line: (text = '') => write(options.stdout, fitted(text, stdoutWidth())),
    note: (text) => write(options.stderr, fitted(text, stderrWidth())),
    progress,
    prepare: async () => {
      if (options.interactive && ora === undefined) ora = (await import('ora')).default;
    },
  };
}

/** ora redraws in place and clears every line its text took, however narrow the terminal. */
function spinner(
  ora: OraFactory,
  stream: Writable,
  initial: string,
  color: ChalkInstance,
  colored: boolean,
  width: () => number | undefined,
): Progress {
  // One line, always: the spinner and a space take two columns.
  const oneLine = (text: string) => {
    const columns = width();
    return columns === undefined ? text : truncate(text, columns - 2);
  };
  const spin = ora({
    text: oneLine(initial),
    stream,
    color: colored ? 'cyan' : false,
    // Leave stdin alone: `down` may ask a question, and Ctrl-C must reach our handler.
    discardStdin: false,
  }).start();
  let active = true;
  const finish = (mark: string | undefined, final: string | undefined) => {
    if (!active) return;
    active = false;
    if (mark !== undefined && final !== undefined)
      spin.stopAndPersist({ symbol: mark, text: final });
    else spin.stop();
  };
  return {
    update: (next) => {
      if (active) spin.text = oneLine(next);
    },
    succeed: (final) => finish(color.green('✔'), final),
    fail: (final) => finish(color.red('✖'), final),
    stop: () => finish(undefined, undefined),
  };
}

/** For logs: one line per change of text, and a repeat of unchanged text only now and then. */
function plainProgress(
  write: (text: string) => void,
  initial: string,
  now: () => number,
  quietMs: number,
): Progress {
  let last = initial;
  let lastAt = now();
  let active = true;
  write(`... ${initial}`);
  return {
    update: (next) => {
      if (!active) return;
      if (next === last && now() - lastAt < quietMs) return;
      last = next;
      lastAt = now();
      write(`... ${next}`);
    },
    succeed: (final) => {
      if (!active) return;
      active = false;
      write(`ok  ${final}`);
    },
    fail: (final) => {
      if (!active) return;
      active = false;
      write(`!!  ${final}`);
    },
    stop: () => {
      active = false;
    },
  };
}
