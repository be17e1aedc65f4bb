import type * as k8s from '@kubernetes/client-node';

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
