import { ExitCode, OperationError, PrerequisiteError } from '../errors.js';
import { lastLine, runTool, type RunOptions, type ToolResult } from './exec.js';

/**
 * `kubectl`, always with an explicit `--context` (and `--kubeconfig` when the target has
 * its own), so what `current-context` says never decides where a change lands.
 */

export type ToolOptions = Pick<RunOptions, 'signal' | 'env'>;

export interface KubectlTarget {
  context: string;
  kubeconfig?: string;
}

const INSTALL_KUBECTL = 'Install kubectl (https://kubernetes.io/docs/tasks/tools/).';

export function targetArgs(target: KubectlTarget): string[] {
  return [
    '--context',
    target.context,
    ...(target.kubeconfig !== undefined ? ['--kubeconfig', target.kubeconfig] : []),
  ];
}

export async function isKubectlInstalled(options: ToolOptions): Promise<boolean> {
  const result = await runTool('kubectl', ['version', '--client'], options);
  return !result.notFound && result.exitCode === 0;
}

export async function verifyKubectl(options: ToolOptions): Promise<void> {
  if (!(await isKubectlInstalled(options))) {
    throw new PrerequisiteError(
      'kubectl is not installed (not found on PATH).',
      ExitCode.KubectlMissing,
      INSTALL_KUBECTL,
    );
  }
}

export async function kubectlContexts(
  kubeconfig: string | undefined,
  options: ToolOptions,
): Promise<string[]> {
  const args = ['config', 'get-contexts', '--output', 'name'];
  if (kubeconfig !== undefined) args.push('--kubeconfig', kubeconfig);
  const result = await runTool('kubectl', args, options);
  if (result.notFound) await verifyKubectl(options);
  if (result.exitCode !== 0) return [];
  return result.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

export async function verifyContext(
  target: KubectlTarget & { cluster?: string },
  options: ToolOptions,
): Promise<void> {
  const contexts = await kubectlContexts(target.kubeconfig, options);
  if (!contexts.includes(target.context)) {
    const where = target.kubeconfig ?? 'your kubeconfig';
    throw new PrerequisiteError(
      `Context "${target.context}" is not in ${where}.`,
      ExitCode.ClusterUnreachable,
      target.cluster !== undefined
        ? `Run \`kind export kubeconfig --name ${target.cluster}\` to add it.`
        : 'Check `kubectl config get-contexts`.',
    );
  }
}

/** kubectl's words for "nothing answered at that address". */
function unreachable(result: ToolResult): boolean {
  return /Unable to connect to the server|connection refused|connection to the server .* was refused|no such host|i\/o timeout|dial tcp/i.test(
    result.stderr,
  );
}

function failure(what: string, target: KubectlTarget, result: ToolResult): Error {
  if (result.notFound) {
    return new PrerequisiteError(
      'kubectl is not installed (not found on PATH).',
      ExitCode.KubectlMissing,
      INSTALL_KUBECTL,
    );
  }
  const why = lastLine(result.stderr) || `exit ${String(result.exitCode)}`;
  if (unreachable(result)) {
    return new PrerequisiteError(
      `The cluster of context "${target.context}" is not reachable: ${why}.`,
      ExitCode.ClusterUnreachable,
      `Check it with \`kubectl --context ${target.context} cluster-info\`.`,
    );
  }
  return new OperationError(`${what} failed: ${why}.`);
}

export interface ObjectRef {
  /** kubectl's resource name: `namespace`, `deployment.apps`, `service`, ... */
  resource: string;
  name: string;
}

/** The live objects among `refs`; absent ones are simply not in the list. */
export async function kubectlGetObjects(
  refs: readonly ObjectRef[],
  namespace: string,
  target: KubectlTarget,
  options: ToolOptions,
): Promise<Record<string, unknown>[]> {
  const args = [
    'get',
    ...refs.map((r) => `${r.resource}/${r.name}`),
    '--namespace',
    namespace,
    '--ignore-not-found',
    '--output',
    'json',
    ...targetArgs(target),
  ];
  const result = await runTool('kubectl', args, options);
  if (result.exitCode !== 0) throw failure('`kubectl get`', target, result);
  return parseObjectList(result.stdout);
}

/** Pods matching a label selector, as kubectl returns them (status included). */
export async function kubectlListPods(
  selector: string,
  namespace: string,
  target: KubectlTarget,
  options: ToolOptions,
): Promise<Record<string, unknown>[]> {
  const args = [
    'get',
    'pods',
    '--selector',
    selector,
    '--namespace',
    namespace,
    '--output',
    'json',
    ...targetArgs(target),
  ];
  const result = await runTool('kubectl', args, options);
  if (result.exitCode !== 0) throw failure('`kubectl get pods`', target, result);
  return parseObjectList(result.stdout);
}

export function parseObjectList(stdout: string): Record<string, unknown>[] {
  if (stdout.trim() === '') return [];
  const parsed = JSON.parse(stdout) as { kind?: string; items?: unknown };
  if (Array.isArray(parsed.items)) {
    return parsed.items.filter(
      (i): i is Record<string, unknown> => typeof i === 'object' && i !== null,
    );
  }
  return [parsed];
}

export function kubectlApplyArgs(target: KubectlTarget, fieldManager: string): string[] {
  return [
    'apply',
    '--server-side',
    `--field-manager=${fieldManager}`,
    // `up` states the desired replicas and image: it takes those fields back from a
    // `kubectl scale` or `kubectl set image` made since, instead of failing on the conflict.
    '--force-conflicts',
    ...targetArgs(target),
    '--filename',
    '-',
  ];
}

/** Server-side apply of a YAML stream given on stdin; returns kubectl's per-object lines. */
export async function kubectlApply(
  yaml: string,
  target: KubectlTarget,
  fieldManager: string,
  options: ToolOptions,
): Promise<string[]> {
  const result = await runTool('kubectl', kubectlApplyArgs(target, fieldManager), {
    ...options,
    input: yaml,
  });
  if (result.exitCode !== 0) throw failure('`kubectl apply`', target, result);
  return result.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/**
 * The namespace's workloads and their pods, deleted gracefully and waited for. Deleting the
 * namespace alone takes much longer: Kubernetes' namespace controller starts 5 s after the
 * namespace is deleted, finds pods still inside (in their preStop wait and drain), and then
 * waits half their grace period (30 s here) before it looks again.
 */
export function kubectlDeleteWorkloadsArgs(
  namespace: string,
  target: KubectlTarget,
  timeoutSeconds: number,
): string[] {
  return [
    'delete',
    'deployments,replicasets,jobs,pods',
    '--all',
    '--namespace',
    namespace,
    '--wait=true',
    `--timeout=${timeoutSeconds}s`,
    ...targetArgs(target),
  ];
}

export async function kubectlDeleteWorkloads(
  namespace: string,
  target: KubectlTarget,
  timeoutSeconds: number,
  options: ToolOptions,
): Promise<void> {
  const args = kubectlDeleteWorkloadsArgs(namespace, target, timeoutSeconds);
  const result = await runTool('kubectl', args, options);
  if (result.exitCode !== 0)
    throw failure(`\`kubectl delete\` of the workloads in ${namespace}`, target, result);
}

export function kubectlDeleteNamespaceArgs(namespace: string, target: KubectlTarget): string[] {
  // --wait=false: the wait is ours, with progress, through the API watch.
  return ['delete', 'namespace', namespace, '--wait=false', ...targetArgs(target)];
}

export async function kubectlDeleteNamespace(
  namespace: string,
  target: KubectlTarget,
  options: ToolOptions,
): Promise<void> {
  const result = await runTool('kubectl', kubectlDeleteNamespaceArgs(namespace, target), options);
  if (result.exitCode !== 0)
    throw failure(`\`kubectl delete namespace ${namespace}\``, target, result);
}
