import type * as k8s from '@kubernetes/client-node';
import type { BlastJob } from '../core/blast-job.js';

/** Job calls; everything else about the blast lives in the command and core. */

export async function createJob(batch: k8s.BatchV1Api, job: BlastJob): Promise<k8s.V1Job> {
  return batch.createNamespacedJob({
    namespace: job.metadata.namespace,
    body: job,
  });
}

/**
 * Background propagation: a Job deleted through the API otherwise orphans its pods (the
 * batch/v1 default), and the curl pod would be left behind.
 */
export async function deleteJob(
  batch: k8s.BatchV1Api,
  namespace: string,
  name: string,
): Promise<void> {
  await batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' });
}

export type JobOutcome =
  { state: 'complete' } | { state: 'failed'; reason: string; message: string };

export function jobOutcome(job: k8s.V1Job): JobOutcome | undefined {
  for (const condition of job.status?.conditions ?? []) {
    if (condition.status !== 'True') continue;
    if (condition.type === 'Complete') return { state: 'complete' };
    if (condition.type === 'Failed') {
      return {
        state: 'failed',
        reason: condition.reason ?? 'Failed',
        message: condition.message ?? '',
      };
    }
  }
  return undefined;
}
