import type * as k8s from '@kubernetes/client-node';
import type { Context } from './context.js';
import { OperationError } from './errors.js';
import {
  BLAST_CONTAINER,
  RUN_ID_LABEL,
  blastJob,
  failedCreateProblem,
  imagePullProblem,
  type BlastJobInput,
} from './core/blast-job.js';
import { waitingReason } from './core/pods.js';
import { curlImageBeside } from './core/registry.js';
import type { Target } from './target.js';
import type { KubeApi } from './kube/api.js';
import { runJob, type JobRun } from './kube/job-run.js';

/**
 * The blast's curl Job, from creation to deletion: the Job `blast` sends its requests with,
 * and the steady load `kill-pod --under-load` keeps up while it kills a replica. A pod that
 * cannot start (an image that cannot be pulled, Pod Security) ends the run with the fix in
 * the message; the Job and its pod are gone at the end, Ctrl-C included (runJob).
 */

export interface CurlJobOptions {
  plan: BlastJobInput['plan'];
  runId: string;
  target: Pick<Target, 'mode' | 'cluster'>;
  /** Each change to the Job's pod. */
  onPod?: (pod: k8s.V1Pod) => void;
  /** Read the log with each line's time (for a timed write-out). */
  timestamps?: boolean;
  /** Where lines about the clean-up go; the printer's notes by default. */
  note?: (text: string) => void;
}

export async function runCurlJob(
  api: KubeApi,
  ctx: Context,
  options: CurlJobOptions,
): Promise<JobRun> {
  const { plan, runId, target } = options;
  const cluster = { mode: target.mode, ...(target.cluster ? { name: target.cluster } : {}) };
  // Where `up` put the server image (a registry, or not) says where the curl image is.
  const deployment = await api.readDeployment();
  const image = curlImageBeside(deployment.spec?.template.spec?.containers[0]?.image);
  return runJob(api, blastJob({ plan, namespace: api.namespace, runId, image }), {
    podSelector: `${RUN_ID_LABEL}=${runId}`,
    container: BLAST_CONTAINER,
    signal: ctx.signal,
    timeoutMs: (plan.timeoutSeconds + 30) * 1000,
    ...(options.timestamps === true ? { timestamps: true } : {}),
    ...(options.onPod ? { onPod: options.onPod } : {}),
    podProblem: (pod) => {
      const waiting = waitingReason(pod);
      const pull = waiting && imagePullProblem(waiting, cluster, image);
      return pull ? new OperationError(pull.message, pull.hint) : undefined;
    },
    failedCreate: (message) => {
      const problem = failedCreateProblem(message, api.namespace);
      return new OperationError(problem.message, problem.hint);
    },
    note: options.note ?? ((text) => ctx.printer.note(text)),
    track: (what) => ctx.leftovers.add(what),
    logOnAbort: true,
  });
}
