import { execa } from 'execa';
import { normalise } from './normalise.js';
import { kubectl, NS, type Result, type Target } from './target.js';

export interface Step {
  args: string[];
  stdin?: string;
}

export interface Case {
  /** Unique: the key of its recorded answer. */
  name: string;
  /** kubectl's arguments; `{pod}` (a live replica), `{cp}` (the control plane) filled in. */
  args: string[];
  stdin?: string;
  /** Run first and after, not compared (their failures are not the case's). */
  before?: Step[];
  after?: Step[];
  /** What of stdout is compared, for answers that hold more than the case is about. */
  view?: (stdout: string) => string;
  /** Runs `kubectl port-forward` with `args`, then one request through the tunnel. */
  portForward?: boolean;
}

export type Outcome = Result;

interface PodList {
  items: { metadata: { name: string; deletionTimestamp?: string } }[];
}

async function livePod(target: Target): Promise<string> {
  const r = await kubectl(target, ['get', 'pods', '-n', NS, '-l', 'app=web-server', '-o', 'json']);
  const names = (JSON.parse(r.stdout || '{"items":[]}') as PodList).items
    .filter((p) => !p.metadata.deletionTimestamp)
    .map((p) => p.metadata.name)
    .sort();
  return names[0] ?? 'no-live-pod';
}

async function controlPlane(target: Target): Promise<string> {
  const r = await kubectl(target, [
    'get',
    'nodes',
    '-l',
    'node-role.kubernetes.io/control-plane',
    '-o',
    'jsonpath={.items[0].metadata.name}',
  ]);
  return r.stdout.trim() || 'no-control-plane';
}

async function fill(target: Target, args: string[]): Promise<string[]> {
  const text = args.join('\u0000');
  let out = text;
  if (out.includes('{pod}')) out = out.replaceAll('{pod}', await livePod(target));
  if (out.includes('{cp}')) out = out.replaceAll('{cp}', await controlPlane(target));
  return out.split('\u0000');
}

async function steps(target: Target, list: Step[] | undefined): Promise<void> {
  for (const step of list ?? [])
    await kubectl(target, await fill(target, step.args), { stdin: step.stdin ?? '' });
}

/** `kubectl port-forward`, its first line, and one request through the tunnel. */
async function portForward(target: Target, args: string[]): Promise<Result> {
  const child = execa('kubectl', [...target.base, ...args], {
    reject: false,
    env: target.env,
    extendEnv: false,
    buffer: false,
  });
  let first = '';
  try {
    first = await new Promise<string>((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => reject(new Error(`no tunnel: ${seen}`)), 20_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        const line = seen.split('\n').find((l) => l.startsWith('Forwarding from 127.0.0.1'));
        if (line) {
          clearTimeout(timer);
          resolve(line);
        }
      });
      child.stderr?.on('data', (chunk: Buffer) => (seen += chunk.toString()));
      void child.then(() => {
        clearTimeout(timer);
        reject(new Error(`port-forward ended: ${seen}`));
      });
    });
    const port = /127\.0\.0\.1:(\d+)/.exec(first)?.[1] ?? '0';
    const res = await fetch(`http://127.0.0.1:${port}/health`, {
      signal: AbortSignal.timeout(10_000),
    });
    return { exitCode: 0, stdout: `${first}\nGET /health: ${res.status}`, stderr: '' };
  } catch (error) {
    return { exitCode: 1, stdout: first, stderr: (error as Error).message };
  } finally {
    child.kill('SIGTERM');
    await child;
  }
}

export async function runCase(target: Target, c: Case): Promise<Outcome> {
  await steps(target, c.before);
  const args = await fill(target, c.args);
  const raw = c.portForward
    ? await portForward(target, args)
    : await kubectl(target, args, { stdin: (await fill(target, [c.stdin ?? '']))[0] });
  await steps(target, c.after);
  let stdout = raw.stdout;
  if (c.view && raw.exitCode === 0) {
    try {
      stdout = c.view(raw.stdout);
    } catch (error) {
      stdout = `(could not read the answer: ${(error as Error).message})\n${raw.stdout}`;
    }
  }
  return { exitCode: raw.exitCode, stdout: normalise(stdout), stderr: normalise(raw.stderr) };
}

export async function runCases(
  target: Target,
  cases: Case[],
  onCase?: (c: Case, outcome: Outcome) => void,
): Promise<Record<string, Outcome>> {
  const out: Record<string, Outcome> = {};
  for (const c of cases) {
    const outcome = await runCase(target, c);
    out[c.name] = outcome;
    onCase?.(c, outcome);
  }
  return out;
}
