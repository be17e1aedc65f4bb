import { Chalk, type ChalkInstance } from 'chalk';
import type { Writable } from 'node:stream';
import type { SingleBar } from 'cli-progress';
import type { Ora, Options as OraOptions } from 'ora';
import { barLine, countLine, pace, type Pace } from './render/progress.js';
import { truncate, wrapLine } from './render/text.js';

export interface Progress {
  /** New status text; a spinner redraws it, a log prints it when it changed. */
  update(text: string): void;
  succeed(text: string): void;
  fail(text: string): void;
  /**
   * Work counted in steps (requests sent of those asked for): on a terminal a bar with the
   * rate and the time left, in a log a line with the same words (as often as `update`).
   */
  count(label: string, done: number, total: number): void;
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
   * Loads the terminal spinner (ora) and bar (cli-progress) when output goes to a terminal.
   * Commands run after it; `--help` never pays for them. Until it has run, progress is
   * printed as plain lines.
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
  /**
   * How the user runs the tool (`npx replica-demo` when it is not installed): every
   * command a line tells them to run, written in backquotes, is written that way.
   */
  self?: string;
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

/** What a terminal's progress is drawn with, loaded by `prepare()`. */
interface TerminalKit {
  ora: OraFactory;
  SingleBar: typeof SingleBar;
}

export function createPrinter(options: PrinterOptions): Printer {
  const color = new Chalk({ level: options.color ? 1 : 0 });
  const now = options.now ?? Date.now;
  const self = options.self ?? 'replica-demo';
  const asTyped = (text: string) =>
    self === 'replica-demo' ? text : text.replaceAll('`replica-demo ', `\`${self} `);
  const write = (stream: Writable, text: string) => stream.write(`${text}\n`);
  const stdoutWidth = options.stdoutWidth ?? (() => undefined);
  const stderrWidth = options.stderrWidth ?? (() => undefined);
  let kit: TerminalKit | undefined;

  const progress = (initial: string): Progress =>
    // ora counts the lines it drew by the terminal's width: with none known (a
    // pseudo-terminal may say 0 columns) it would clear without end; plain lines instead.
    options.interactive && kit && stderrWidth() !== undefined
      ? spinner(kit, options.stderr, initial, {
          color,
          colored: options.color,
          width: stderrWidth,
          now,
        })
      : plainProgress(
          (t) => write(options.stderr, asTyped(t)),
          initial,
          now,
          options.quietMs ?? 5000,
        );

  return {
    color,
    interactive: options.interactive,
    get width() {
      return stdoutWidth();
    },
    line: (text = '') => write(options.stdout, fitted(asTyped(text), stdoutWidth())),
    note: (text) => write(options.stderr, fitted(asTyped(text), stderrWidth())),
    progress,
    prepare: async () => {
      if (!options.interactive || kit !== undefined) return;
      const [ora, progressBars] = await Promise.all([import('ora'), import('cli-progress')]);
      kit = { ora: ora.default, SingleBar: progressBars.default.SingleBar };
    },
  };
}

interface SpinnerLook {
  color: ChalkInstance;
  colored: boolean;
  width: () => number | undefined;
  now: () => number;
}

/**
 * ora redraws in place and clears every line its text took, however narrow the terminal;
 * once work is counted, a cli-progress bar takes its place on the same line.
 */
function spinner(kit: TerminalKit, stream: Writable, initial: string, look: SpinnerLook): Progress {
  const { color, width } = look;
  // One line, always: the spinner and a space take two columns.
  const oneLine = (text: string) => {
    const columns = width();
    return columns === undefined ? text : truncate(text, columns - 2);
  };
  const spin = kit
    .ora({
      text: oneLine(initial),
      stream,
      color: look.colored ? 'cyan' : false,
      // Leave stdin alone: `down` may ask a question, and Ctrl-C must reach our handler.
      discardStdin: false,
    })
    .start();
  let bar: SingleBar | undefined;
  let active = true;
  const finish = (mark: string | undefined, final: string | undefined) => {
    if (!active) return;
    active = false;
    bar?.stop();
    if (mark !== undefined && final !== undefined) {
      // The last line stays on screen: wrapped, under its text, rather than cut.
      const columns = width();
      const text = columns === undefined ? final : wrapLine(final, columns - 2).join('\n  ');
      spin.stopAndPersist({ symbol: mark, text });
    } else spin.stop();
  };
  // The pace is worked out when a count arrives, not at each redraw in between (where the
  // rate would sag until the next count).
  let counted: { at: number; done: number; pace: Pace } | undefined;
  const startBar = (label: string, total: number): SingleBar => {
    spin.stop();
    const next = new kit.SingleBar({
      stream,
      hideCursor: true,
      clearOnComplete: true,
      linewrap: false,
      fps: 5,
      format: (_options, params) =>
        barLine(
          label,
          params.value,
          params.total,
          counted?.pace ?? pace(0, 0, 0),
          (width() ?? 80) - 1,
        ),
    });
    next.start(total, 0);
    return next;
  };
  return {
    update: (next) => {
      if (active && bar === undefined) spin.text = oneLine(next);
    },
    count: (label, done, total) => {
      if (!active) return;
      counted ??= { at: look.now(), done, pace: pace(0, 0, 0) };
      counted.pace = pace(done - counted.done, total - counted.done, look.now() - counted.at);
      bar ??= startBar(label, total);
      bar.update(done);
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
  let counting: { at: number; done: number } | undefined;
  write(`... ${initial}`);
  const update = (next: string) => {
    if (!active) return;
    if (next === last && now() - lastAt < quietMs) return;
    last = next;
    lastAt = now();
    write(`... ${next}`);
  };
  return {
    update,
    count: (label, done, total) => {
      // The first call starts the clock; a line saying nothing is done yet is not needed.
      const first = counting === undefined;
      counting ??= { at: now(), done };
      if (first && done === 0) return;
      const p = pace(done - counting.done, total - counting.done, now() - counting.at);
      update(countLine(label, done, total, p));
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
