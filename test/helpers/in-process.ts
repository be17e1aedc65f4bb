import readline from 'node:readline';
import { PassThrough } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { main } from '../../src/cli/main.js';

/**
 * The CLI's `main` run inside the test process, with the given environment and captured
 * streams (no terminals), for tests where the process boundary is not what is tested.
 */

export interface InProcessRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Everything written to a stream, as text. */
function capture(columns?: number): { stream: PassThrough; text: () => string } {
  const stream = columns === undefined ? new PassThrough() : fakeTerminal(columns);
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** A stream that says it is a terminal of `columns` columns, as Node's TTY streams do. */
export function fakeTerminal(columns: number, stream = new PassThrough()): PassThrough {
  return Object.assign(stream, {
    columns,
    rows: 24,
    isTTY: true,
    cursorTo: (x: number, y?: number) => readline.cursorTo(stream, x, y),
    moveCursor: (dx: number, dy: number) => readline.moveCursor(stream, dx, dy),
    clearLine: (dir: -1 | 0 | 1) => readline.clearLine(stream, dir),
    clearScreenDown: () => readline.clearScreenDown(stream),
    getWindowSize: () => [columns, 24],
  });
}

/**
 * What a terminal shows of `raw`: each drawing (between line ends, carriage returns and
 * cursor moves to the line's start or clears) as plain text.
 */
export function screenLines(raw: string): string[] {
  // eslint-disable-next-line no-control-regex
  return raw.split(/\r|\n|\u001b\[\d*[GK]/).map((d) => stripVTControlCharacters(d));
}

export async function runMain(
  args: string[],
  env: NodeJS.ProcessEnv,
  options: { columns?: number } = {},
): Promise<InProcessRun> {
  const stdout = capture(options.columns);
  const stderr = capture(options.columns);
  // The Kubernetes client reads KUBECONFIG from the process itself, not from the run's env.
  const kubeconfigBefore = process.env.KUBECONFIG;
  process.env.KUBECONFIG = env.KUBECONFIG;
  try {
    const code = await main(args, {
      env,
      stdout: stdout.stream as unknown as NodeJS.WriteStream,
      stderr: stderr.stream as unknown as NodeJS.WriteStream,
      stdin: new PassThrough() as unknown as NodeJS.ReadStream,
    });
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  } finally {
    if (kubeconfigBefore === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = kubeconfigBefore;
  }
}
