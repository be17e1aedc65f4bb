import type * as k8s from '@kubernetes/client-node';
import { Log, type KubeConfig } from '@kubernetes/client-node';
import { Writable } from 'node:stream';

/** The whole log of one container, as text (the blast's curl output fits comfortably). */
export async function readPodLog(
  core: k8s.CoreV1Api,
  namespace: string,
  pod: string,
  container?: string,
): Promise<string> {
  const text = await core.readNamespacedPodLog({
    name: pod,
    namespace,
    ...(container !== undefined ? { container } : {}),
  });
  return typeof text === 'string' ? text : String(text);
}

/**
 * Follows a container's log as it is written (`kubectl logs -f`); best-effort, for progress
 * only: the result is always read whole at the end.
 */
export async function followPodLog(
  kc: KubeConfig,
  namespace: string,
  pod: string,
  container: string,
  onText: (text: string) => void,
): Promise<{ stop(): void }> {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      onText(chunk.toString('utf8'));
      callback();
    },
  });
  const controller = await new Log(kc).log(namespace, pod, container, sink, { follow: true });
  return { stop: () => controller.abort() };
}
