import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import YAML from 'yaml';

/** One cluster the suite runs against, through kubectl as a learner runs it. */

export interface Result {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Target {
  /** `--context kind-kind`, or `--kubeconfig <embedded cluster's>`. */
  base: string[];
  env: NodeJS.ProcessEnv;
}

export const NS = 'fidelity';
/** Two tags of the server image: the real cluster's nodes hold both; the embedded cluster runs any. */
export const IMAGE = 'multi-replica-app:f5fa7b464884';
export const IMAGE2 = 'multi-replica-app:66e33a6e68a9';

export async function kubectl(
  target: Target,
  args: string[],
  options: { stdin?: string; timeoutMs?: number } = {},
): Promise<Result> {
  const r = await execa('kubectl', [...target.base, ...args], {
    reject: false,
    timeout: options.timeoutMs ?? 120_000,
    input: options.stdin ?? '',
    env: target.env,
    extendEnv: false,
  });
  return {
    exitCode: r.exitCode ?? -1,
    stdout: String(r.stdout),
    stderr: String(r.stderr),
  };
}

const MANIFESTS = fileURLToPath(new URL('../../manifests/', import.meta.url));

/** The project's manifests with the namespace changed and the image named. */
export function renderManifests(): Record<string, unknown>[] {
  const files = readdirSync(MANIFESTS)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  return files.map((file) => {
    const doc = YAML.parse(readFileSync(path.join(MANIFESTS, file), 'utf8')) as {
      kind: string;
      metadata: { name: string; namespace?: string };
      spec?: { template?: { spec?: { containers?: { image: string }[] } } };
    };
    if (doc.kind === 'Namespace') doc.metadata.name = NS;
    else doc.metadata.namespace = NS;
    for (const c of doc.spec?.template?.spec?.containers ?? []) c.image = IMAGE;
    return doc;
  });
}

export function manifestText(kinds?: string[], edit?: (doc: Record<string, unknown>) => void) {
  return renderManifests()
    .filter((d) => kinds === undefined || kinds.includes(String(d.kind)))
    .map((d) => {
      edit?.(d);
      return YAML.stringify(d);
    })
    .join('---\n');
}

async function must(target: Target, args: string[], stdin?: string): Promise<void> {
  const r = await kubectl(target, args, { stdin: stdin ?? '', timeoutMs: 240_000 });
  if (r.exitCode !== 0)
    throw new Error(`kubectl ${args.join(' ')} failed (${r.exitCode}): ${r.stderr}`);
}

/** The suite's own namespace, made from the manifests, with every replica ready. */
export async function setUp(target: Target): Promise<void> {
  await tearDown(target);
  await must(target, ['apply', '--server-side', '-f', '-'], manifestText());
  await must(target, ['rollout', 'status', '-n', NS, 'deployment/web-server-deployment']);
  await must(target, [
    'wait',
    '-n',
    NS,
    '--for=condition=Ready',
    'pod',
    '-l',
    'app=web-server',
    '--timeout=120s',
  ]);
}

export async function tearDown(target: Target, wait = true): Promise<void> {
  const nodes = await kubectl(target, ['get', 'nodes', '-o', 'name']);
  for (const node of nodes.stdout.split('\n').filter((n) => n.includes('control-plane')))
    await kubectl(target, ['uncordon', node]);
  await kubectl(target, [
    'delete',
    'namespace',
    NS,
    'fid-extra',
    '--ignore-not-found',
    `--wait=${String(wait)}`,
    '--timeout=180s',
  ]);
}
