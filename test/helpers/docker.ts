import { execa } from 'execa';
import { createServer } from 'node:net';

/** What the tests that build and run the server image share. */

/** The image ids that descend from `ancestor` (build stages included), children first. */
export async function descendantsOf(ancestor: string): Promise<string[]> {
  const ids = (await execa('docker', ['image', 'ls', '--all', '--quiet', '--no-trunc'])).stdout
    .split('\n')
    .filter((id) => id !== '');
  if (ids.length === 0) return [];
  const parents = new Map<string, string>();
  const inspected = await execa('docker', [
    'image',
    'inspect',
    '--format',
    '{{.Id}} {{.Parent}}',
    ...new Set(ids),
  ]);
  for (const line of inspected.stdout.split('\n')) {
    const [id, parent] = line.split(' ');
    if (id !== undefined && parent !== undefined && parent !== '') parents.set(id, parent);
  }
  const depth = (id: string): number => {
    let steps = 0;
    for (let at = parents.get(id); at !== undefined; at = parents.get(at)) {
      steps += 1;
      if (at === ancestor) return steps;
    }
    return 0;
  };
  return [...parents.keys()]
    .map((id) => ({ id, steps: depth(id) }))
    .filter(({ steps }) => steps > 0)
    .sort((a, b) => b.steps - a.steps)
    .map(({ id }) => id);
}

export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export async function getWhenUp(url: string, deadlineMs: number): Promise<Response> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await fetch(url);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
