import { execa } from 'execa';
import { InterruptedError } from '../errors.js';

/**
 * The one way this tool runs another program: an argument array (never a shell), output
 * captured, a non-zero exit returned rather than thrown so each wrapper can say what it
 * means, and Ctrl-C passed through so a long `docker build` stops with us.
 */

export interface ToolResult {
  /** undefined when the program could not be started at all. */
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  /** The program is not on PATH (or not executable). */
  notFound: boolean;
}

export interface RunOptions {
  signal: AbortSignal;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Text written to the program's stdin (e.g. rendered YAML for `kubectl apply -f -`). */
  input?: string;
  timeoutMs?: number;
  /** Called with each line of output as it arrives, for long steps like `docker build`. */
  onLine?: (line: string) => void;
}

export interface ToolRunner {
  (file: string, args: readonly string[], options: RunOptions): Promise<ToolResult>;
}

export const runTool: ToolRunner = async (file, args, options) => {
  const result = await execa(file, [...args], {
    reject: false,
    cancelSignal: options.signal,
    env: options.env,
    extendEnv: options.env === undefined,
    cwd: options.cwd,
    input: options.input,
    // Without input, stdin is closed so a program that would prompt fails instead of hanging.
    stdin: options.input === undefined ? 'ignore' : 'pipe',
    timeout: options.timeoutMs,
    stripFinalNewline: true,
    ...(options.onLine
      ? {
          stdout: ['pipe', lineSink(options.onLine)],
          stderr: ['pipe', lineSink(options.onLine)],
        }
      : {}),
  });
  if (result.isCanceled || options.signal.aborted) {
    throw new InterruptedError(`Interrupted while running ${file}.`);
  }
  const stdout = typeof result.stdout === 'string' ? result.stdout : '';
  const stderr = typeof result.stderr === 'string' ? result.stderr : '';
  return {
    exitCode: result.exitCode,
    stdout,
    stderr,
    notFound:
      result.exitCode === undefined && (result.code === 'ENOENT' || result.code === 'EACCES'),
  };
};

function lineSink(onLine: (line: string) => void) {
  return function* (line: unknown): Generator<unknown, void, unknown> {
    if (typeof line === 'string') onLine(line);
    yield line;
  };
}

/** The last non-empty line of a program's error output: usually the one that says why. */
export function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return lines.at(-1) ?? '';
}
