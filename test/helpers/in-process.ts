import { PassThrough } from 'node:stream';
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
function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

export async function runMain(args: string[], env: NodeJS.ProcessEnv): Promise<InProcessRun> {
  const stdout = capture();
  const stderr = capture();
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
