import { ExitCode, OperationError, PrerequisiteError } from '../errors.js';
import { lastLine, runTool, type RunOptions } from './exec.js';

/** `kind`: clusters are Docker containers; their names and contexts follow `kind-<name>`. */

export type ToolOptions = Pick<RunOptions, 'signal' | 'env'>;

const INSTALL_KIND =
  'Install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation), or run `replica-demo up --sim` to use the embedded cluster.';

export async function isKindInstalled(options: ToolOptions): Promise<boolean> {
  const result = await runTool('kind', ['version'], options);
  return !result.notFound && result.exitCode === 0;
}

export async function verifyKind(options: ToolOptions): Promise<void> {
  if (!(await isKindInstalled(options))) {
    throw new PrerequisiteError(
      'kind is not installed (not found on PATH).',
      ExitCode.KindMissing,
      INSTALL_KIND,
    );
  }
}

/** Names of the existing kind clusters. */
export async function kindClusters(options: ToolOptions): Promise<string[]> {
  const result = await runTool('kind', ['get', 'clusters'], options);
  if (result.notFound) {
    throw new PrerequisiteError(
      'kind is not installed (not found on PATH).',
      ExitCode.KindMissing,
      INSTALL_KIND,
    );
  }
  if (result.exitCode !== 0) {
    // kind talks to Docker to list clusters; a stopped daemon shows up here first.
    throw new PrerequisiteError(
      `\`kind get clusters\` failed: ${lastLine(result.stderr) || `exit ${result.exitCode}`}.`,
      ExitCode.DockerDaemonDown,
      'Start Docker (e.g. `sudo systemctl start docker`) and try again.',
    );
  }
  // "No kind clusters found." goes to stderr; stdout holds one name per line.
  return result.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/** Node container names of a cluster (each one is a Docker container). */
export async function kindNodes(cluster: string, options: ToolOptions): Promise<string[]> {
  const result = await runTool('kind', ['get', 'nodes', '--name', cluster], options);
  if (result.exitCode !== 0) {
    throw new OperationError(
      `\`kind get nodes --name ${cluster}\` failed: ${lastLine(result.stderr) || `exit ${String(result.exitCode)}`}.`,
    );
  }
  return result.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('No kind nodes'));
}

export function kindLoadArgs(image: string, cluster: string, nodes?: readonly string[]): string[] {
  const args = ['load', 'docker-image', image, '--name', cluster];
  if (nodes && nodes.length > 0) args.push('--nodes', nodes.join(','));
  return args;
}

/** Copies a local image into the cluster's nodes (all, or only the ones named). */
export async function kindLoad(
  image: string,
  cluster: string,
  nodes: readonly string[] | undefined,
  options: ToolOptions,
): Promise<void> {
  const result = await runTool('kind', kindLoadArgs(image, cluster, nodes), options);
  if (result.exitCode !== 0) {
    throw new OperationError(
      `Loading ${image} into kind cluster "${cluster}" failed: ${lastLine(result.stderr) || `exit ${String(result.exitCode)}`}.`,
      `Try it by hand: \`kind ${kindLoadArgs(image, cluster, nodes).join(' ')}\`.`,
    );
  }
}

export function kindCreateArgs(cluster: string, configPath: string): string[] {
  return ['create', 'cluster', '--name', cluster, '--config', configPath];
}

export async function kindCreateCluster(
  cluster: string,
  configPath: string,
  options: ToolOptions & { onLine?: (line: string) => void },
): Promise<void> {
  const result = await runTool('kind', kindCreateArgs(cluster, configPath), options);
  if (result.exitCode !== 0) {
    throw new OperationError(
      `Creating kind cluster "${cluster}" failed: ${lastLine(result.stderr) || `exit ${String(result.exitCode)}`}.`,
      `Try it by hand: \`kind ${kindCreateArgs(cluster, configPath).join(' ')}\`.`,
    );
  }
}

export async function kindDeleteCluster(cluster: string, options: ToolOptions): Promise<void> {
  const result = await runTool('kind', ['delete', 'cluster', '--name', cluster], options);
  if (result.exitCode !== 0) {
    throw new OperationError(
      `Deleting kind cluster "${cluster}" failed: ${lastLine(result.stderr) || `exit ${String(result.exitCode)}`}.`,
    );
  }
}
