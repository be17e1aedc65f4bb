import type { Context } from '../context.js';
import type { Affinity } from '../core/flags.js';
import { SERVICE } from '../core/names.js';
import type { KubeApi } from '../kube/api.js';

/**
 * `blast --affinity`: the Service gets the sessionAffinity asked for, for this blast only.
 * Resolves to the function that puts it back as it was (its affinity and its affinity
 * config), which the blast runs however it ends; undefined when there was nothing to change.
 */
export async function affinityForBlast(
  api: KubeApi,
  affinity: Affinity,
  ctx: Context,
): Promise<(() => Promise<void>) | undefined> {
  const service = await api.readService();
  const was = service.spec?.sessionAffinity ?? 'None';
  if (was === affinity) {
    ctx.printer.note(`Service ${SERVICE} already has sessionAffinity ${affinity}; left as it is.`);
    return undefined;
  }
  // Only ClientIP has a config (the API drops it for None); it is put back with the affinity.
  const wasConfig = was === 'ClientIP' ? service.spec?.sessionAffinityConfig : undefined;
  const restoreBody = JSON.stringify({
    spec: { sessionAffinity: was, sessionAffinityConfig: wasConfig ?? null },
  });
  const kubectl = `kubectl patch service ${SERVICE} -n ${api.namespace} --type merge -p '${restoreBody}'`;
  const untrack = ctx.leftovers.add(
    `Service ${SERVICE} with sessionAffinity ${affinity} instead of ${was} (\`${kubectl}\` restores it)`,
  );
  await api.setSessionAffinity(affinity, undefined);
  ctx.printer.note(
    `Service ${SERVICE}: sessionAffinity ${affinity} for this blast (it was ${was}; put back at the end).`,
  );
  return async () => {
    try {
      await api.setSessionAffinity(was, wasConfig);
      ctx.printer.note(`Service ${SERVICE}: sessionAffinity back to ${was}.`);
    } catch (error) {
      ctx.printer.note(
        `${(error as Error).message} Service ${SERVICE} still has sessionAffinity ${affinity}; \`${kubectl}\` restores it.`,
      );
    } finally {
      untrack();
    }
  };
}
