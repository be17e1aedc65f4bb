import { Chalk, type ChalkInstance } from 'chalk';
import type { Writable } from 'node:stream';
import type { Ora, Options as OraOptions } from 'ora';

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
}

type OraFactory = (options: OraOptions) => Ora;

export function createPrinter(options: PrinterOptions): Printer {
  const color = new Chalk({ level: options.color ? 1 : 0 });
  const now = options.now ?? Date.now;
  const write = (stream: Writable, text: string) => stream.write(`${text}\n`);
  let ora: OraFactory | undefined;

  const progress = (initial: string): Progress =>
    options.interactive && ora
      ? spinner(ora, options.stderr, initial, color, options.color)
      : plainProgress((t) => write(options.stderr, t), initial, now, options.quietMs ?? 5000);

  return {
    color,
    interactive: options.interactive,
    line: (text = '') => write(options.stdout, text),
    note: (text) => write(options.stderr, text),
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
): Progress {
  const spin = ora({
    text: initial,
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
      if (active) spin.text = next;
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
