import { realpathSync } from 'node:fs';
import path from 'node:path';
import { createPrinter, type Printer } from './output.js';
import { toolHome } from './home.js';

/**
 * Everything a command may touch in the outside world, built once in main.ts and passed
 * down. Tests build their own.
 */
export interface Context {
  readonly printer: Printer;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** The tool's own folder (state, embedded cluster); REPLICA_DEMO_HOME overrides it. */
  readonly home: string;
  /** Aborted on Ctrl-C; long waits pass it on and stop early. */
  readonly signal: AbortSignal;
  /** Whether a person can answer a question (stdin and stderr are terminals). */
  readonly interactive: boolean;
  readonly now: () => number;
  readonly random: () => number;
  /**
   * What the run would leave behind if it stopped this instant, each with how to remove it;
   * a second Ctrl-C (which skips the clean-up) prints it. `add` returns the remover.
   */
  readonly leftovers: Leftovers;
  /**
   * Asks on stderr (stdout stays clean) and reads one line of stdin; undefined on Ctrl-C or
   * when input ends.
   */
  readonly ask: (question: string) => Promise<string | undefined>;
}

export class Leftovers {
  private readonly items = new Set<string>();

  add(what: string): () => void {
    const item = what;
    this.items.add(item);
    return () => this.items.delete(item);
  }

  /** One line for the user: what is left and how to remove it, or that nothing is. */
  describe(): string {
    return this.items.size === 0
      ? 'Stopped at once; nothing was left behind.'
      : `Stopped at once, without cleaning up. Left behind: ${[...this.items].join('; ')}.`;
  }
}

export interface ContextOptions {
  signal: AbortSignal;
  env?: NodeJS.ProcessEnv;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
  /** The program file the user ran (process.argv[1]); hints name it as they can type it. */
  script?: string;
}

/**
 * The stream's columns when it is a terminal that says; a pseudo-terminal may report 0,
 * and anything under 40 columns is taken as not knowing.
 */
function terminalWidth(stream: NodeJS.WriteStream): number | undefined {
  return stream.isTTY && stream.columns >= 40 ? stream.columns : undefined;
}

/**
 * How the user runs this tool, for the commands hints tell them to run: `replica-demo` when
 * that name on their PATH is this very program (installed globally), else `npx
 * replica-demo` (a checkout, `npm run`, or npx itself, whose PATH holds a copy only for
 * its own run).
 */
export function selfCommand(env: NodeJS.ProcessEnv, script: string | undefined): string {
  const npx = 'npx replica-demo';
  if (script === undefined || env.npm_command === 'exec') return npx;
  const resolve = (file: string) => {
    try {
      return realpathSync(file);
    } catch {
      return undefined;
    }
  };
  const self = resolve(script);
  const onPath = (env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => dir !== '')
    .some((dir) => resolve(path.join(dir, 'replica-demo')) === self);
  return self !== undefined && onPath ? 'replica-demo' : npx;
}

export function createContext(options: ContextOptions): Context {
  const env = options.env ?? process.env;
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const stdin = options.stdin ?? process.stdin;
  const interactive = Boolean(stderr.isTTY) && Boolean(stdin.isTTY) && env.CI !== 'true';
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  const color =
    !noColor && (env.FORCE_COLOR !== undefined ? env.FORCE_COLOR !== '0' : Boolean(stdout.isTTY));
  return {
    printer: createPrinter({
      stdout,
      stderr,
      interactive: Boolean(stderr.isTTY) && env.CI !== 'true',
      color,
      stdoutWidth: () => terminalWidth(stdout),
      stderrWidth: () => terminalWidth(stderr),
      self: selfCommand(env, options.script),
    }),
    env,
    cwd: process.cwd(),
    home: toolHome(env),
    signal: options.signal,
    interactive,
    now: Date.now,
    random: Math.random,
    leftovers: new Leftovers(),
    ask: (question) => askLine(question, stdin, stderr, options.signal),
  };
}

async function askLine(
  question: string,
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
  signal: AbortSignal,
): Promise<string | undefined> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input, output, terminal: false });
  const closed = new Promise<undefined>((resolve) => rl.once('close', () => resolve(undefined)));
  try {
    return await Promise.race([rl.question(question, { signal }), closed]);
  } catch {
    return undefined;
  } finally {
    rl.close();
  }
}
