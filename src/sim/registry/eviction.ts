import type { Store } from '../store.js';
import { PDBS, PODS, isPodReady } from '../controllers/common.js';
import { coveredPods, pdbStatus, type PdbStatus } from '../controllers/disruption.js';
import { ApiError, type Status } from '../api/status.js';
import { deleteObject } from './delete.js';

/**
 * The pods/eviction subresource (`kubectl drain`, the Eviction API): a graceful deletion
 * that a PodDisruptionBudget may refuse (429) while it allows no disruption, and that
 * uses up one allowed disruption when it goes ahead, as the real API server does.
 */

interface EvictionBody {
  deleteOptions?: { gracePeriodSeconds?: number; dryRun?: string[] };
}

export function evictPod(
  store: Store,
  namespace: string,
  name: string,
  body: EvictionBody,
  dryRun: boolean,
): Status {
  const pod = store.mustGet(PODS, namespace, name);
  const budgets = store
    .list(PDBS, { namespace })
    .items.filter((pdb) =>
      coveredPods(store, pdb).some((p) => p.metadata.uid === pod.metadata.uid),
    );
  if (budgets.length > 1)
    throw new ApiError(
      500,
      'InternalError',
      'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
    );
  const pdb = budgets[0];
  const unhealthyMayGo =
    pdb !== undefined &&
    !isPodReady(pod) &&
    (pdb.spec as { unhealthyPodEvictionPolicy?: string } | undefined)
      ?.unhealthyPodEvictionPolicy === 'AlwaysAllow';
  if (pdb && !pod.metadata.deletionTimestamp && !unhealthyMayGo) {
    const status =
      (pdb.status as PdbStatus | undefined) ?? pdbStatus(store, pdb, store.timestamp());
    if (status.disruptionsAllowed <= 0)
      throw new ApiError(
        429,
        'TooManyRequests',
        "Cannot evict pod as it would violate the pod's disruption budget.",
        {
          causes: [
            {
              reason: 'DisruptionBudget',
              message: `The disruption budget ${pdb.metadata.name} needs ${status.desiredHealthy} healthy pods and has ${status.currentHealthy} currently`,
            },
          ],
        },
      );
    if (!dryRun)
      store.update(
        PDBS,
        namespace,
        pdb.metadata.name,
        (o) => {
          const s = o.status as PdbStatus & { disruptedPods?: Record<string, string> };
          o.status = {
            ...s,
            disruptionsAllowed: status.disruptionsAllowed - 1,
            disruptedPods: { ...s.disruptedPods, [name]: store.timestamp() },
          };
        },
        undefined,
        { status: true },
      );
  }
  const grace = body.deleteOptions?.gracePeriodSeconds;
  deleteObject(store, PODS, namespace, name, {
    ...(grace === undefined ? {} : { gracePeriodSeconds: grace }),
    dryRun: dryRun || (body.deleteOptions?.dryRun ?? []).length > 0,
  });
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
}
