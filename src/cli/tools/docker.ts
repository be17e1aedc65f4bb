import { ExitCode, OperationError, PrerequisiteError } from '../errors.js';
import { lastLine, runTool, type RunOptions } from './exec.js';

/** `docker`: the CLI, its daemon, local images, and the kind node containers. */

export type ToolOptions = Pick<RunOptions, 'signal' | 'env'>;

export async function isDockerInstalled(options: ToolOptions): Promise<boolean> {
  const result = await runTool('docker', ['--version'], options);
  return !result.notFound && result.exitCode === 0;
}

export async function verifyDockerInstalled(options: ToolOptions): Promise<void> {
  if (!(await isDockerInstalled(options))) {
    throw new PrerequisiteError(
      'The docker command is not installed (not found on PATH).',
      ExitCode.DockerMissing,
      'Install Docker (https://docs.docker.com/get-docker/), or run `replica-demo up --sim` to use the embedded cluster.',
    );
  }
}

export async function isDockerDaemonRunning(options: ToolOptions): Promise<boolean> {
  const result = await runTool('docker', ['info', '--format', '{{.ServerVersion}}'], options);
  return result.exitCode === 0 && result.stdout.trim() !== '';
}

export async function verifyDockerDaemon(options: ToolOptions): Promise<void> {
  const result = await runTool('docker', ['info', '--format', '{{.ServerVersion}}'], options);
  if (result.exitCode !== 0 || result.stdout.trim() === '') {
    const why = lastLine(result.stderr);
    throw new PrerequisiteError(
      `The Docker daemon is not reachable${why ? ` (${why})` : ''}.`,
      ExitCode.DockerDaemonDown,
      'Start it (`sudo systemctl start docker`, or open Docker Desktop) and check with `docker info`.',
    );
  }
}

export async function dockerImageExists(image: string, options: ToolOptions): Promise<boolean> {
  const result = await runTool(
    'docker',
    ['image', 'inspect', '--format', '{{.Id}}', image],
    options,
  );
  return result.exitCode === 0;
}

export function dockerBuildArgs(
  image: string,
  contextDir: string,
  dockerfile: string,
  baseImage?: string,
): string[] {
  const base = baseImage !== undefined ? ['--build-arg', `BASE_IMAGE=${baseImage}`] : [];
  return ['build', '--tag', image, ...base, '--file', dockerfile, contextDir];
}

export async function dockerBuild(
  image: string,
  contextDir: string,
  dockerfile: string,
  options: ToolOptions & { onLine?: (line: string) => void; baseImage?: string },
): Promise<void> {
  const args = dockerBuildArgs(image, contextDir, dockerfile, options.baseImage);
  const result = await runTool('docker', args, options);
  if (result.exitCode !== 0) {
    throw new OperationError(
      `\`docker build\` of ${image} failed: ${lastLine(result.stderr) || lastLine(result.stdout) || `exit ${String(result.exitCode)}`}.`,
      `Run it by hand to see the whole output: \`docker ${args.join(' ')}\`.`,
    );
  }
}

/** Pulls an image; the reason when it cannot (offline, unknown tag), undefined on success. */
export async function dockerPull(image: string, options: ToolOptions): Promise<string | undefined> {
  const result = await runTool('docker', ['pull', image], options);
  if (result.exitCode === 0) return undefined;
  return lastLine(result.stderr) || `exit ${String(result.exitCode)}`;
}

/**
 * The images a kind node's containerd holds. kind nodes are containers, so `crictl` inside
 * one answers exactly what its kubelet can use; this is per node and read-only, unlike
 * `kind load`, which always saves the whole image first and only then skips nodes that have it.
 */
export async function nodeImages(node: string, options: ToolOptions): Promise<Set<string>> {
  const result = await runTool('docker', ['exec', node, 'crictl', 'images', '-o', 'json'], options);
  if (result.exitCode !== 0) {
    throw new OperationError(
      `Could not list the images on kind node ${node}: ${lastLine(result.stderr) || `exit ${String(result.exitCode)}`}.`,
      `Check the node with \`docker exec ${node} crictl images\`.`,
    );
  }
  return parseCrictlImages(result.stdout);
}

export function parseCrictlImages(json: string): Set<string> {
  const tags = new Set<string>();
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return tags;
  }
  const images = (parsed as { images?: unknown }).images;
  if (!Array.isArray(images)) return tags;
  for (const image of images) {
    const repoTags = (image as { repoTags?: unknown }).repoTags;
    if (!Array.isArray(repoTags)) continue;
    for (const tag of repoTags) if (typeof tag === 'string') tags.add(normalizeImageRef(tag));
  }
  return tags;
}

/**
 * containerd stores `multi-replica-app:abc` as `docker.io/library/multi-replica-app:abc`;
 * compare in that full form.
 */
export function normalizeImageRef(ref: string): string {
  const firstSlash = ref.indexOf('/');
  const first = firstSlash === -1 ? '' : ref.slice(0, firstSlash);
  const hasRegistry = first.includes('.') || first.includes(':') || first === 'localhost';
  if (hasRegistry) return ref;
  if (firstSlash === -1) return `docker.io/library/${ref}`;
  return `docker.io/${ref}`;
}

export async function dockerTag(image: string, ref: string, options: ToolOptions): Promise<void> {
  const result = await runTool('docker', ['tag', image, ref], options);
  if (result.exitCode !== 0) {
    throw new OperationError(
      `\`docker tag ${image} ${ref}\` failed: ${lastLine(result.stderr) || `exit ${String(result.exitCode)}`}.`,
    );
  }
}

/**
 * True when the registry already holds `ref`. Read-only; `--insecure` lets the check reach a
 * plain-HTTP registry (the push itself follows the engine's own settings).
 */
export async function registryHasImage(ref: string, options: ToolOptions): Promise<boolean> {
  const result = await runTool('docker', ['manifest', 'inspect', '--insecure', ref], options);
  return result.exitCode === 0;
}

export function dockerPushArgs(ref: string): string[] {
  return ['push', ref];
}

/** Pushes `ref`; a failure says why in the registry's words, with the usual fix. */
export async function dockerPush(ref: string, options: ToolOptions): Promise<void> {
  const result = await runTool('docker', dockerPushArgs(ref), options);
  if (result.exitCode === 0) return;
  const why =
    lastLine(result.stderr) || lastLine(result.stdout) || `exit ${String(result.exitCode)}`;
  throw new OperationError(`\`docker push ${ref}\` failed: ${why}.`, pushHint(why, ref));
}

/** What to do about a failed push, from the engine's last line. */
export function pushHint(why: string, ref: string): string {
  const host = ref.split('/')[0] ?? ref;
  if (/unauthorized|denied|authentication required|no basic auth/i.test(why)) {
    return `Log in first: \`docker login ${host}\`, then run \`replica-demo up\` again with the same --registry.`;
  }
  if (/HTTP response to HTTPS client/i.test(why)) {
    return `${host} speaks plain HTTP: add it to the Docker engine's "insecure-registries" (localhost needs nothing), or use an HTTPS registry.`;
  }
  if (/connection refused|no such host|dial tcp|i\/o timeout/i.test(why)) {
    return `Check that the registry answers from this machine: \`curl -s http://${host}/v2/\` (or https).`;
  }
  return `Run it by hand to see the whole output: \`docker push ${ref}\`.`;
}
