import type * as k8s from '@kubernetes/client-node';
import type { Context } from '../context.js';
import { assignColours } from '../core/colours.js';
import { APP_LABEL, DEPLOYMENT } from '../core/names.js';
import type { KubeApi } from '../kube/api.js';
import type { Informer } from '../kube/informer.js';
import { rememberColours, rememberedColours } from '../pod-colours.js';
import { podCard } from './cluster-view.js';
import type { PodCard } from './protocol.js';

/**
 * The lesson's pods and Deployment, followed by watch (the informers every command uses),
 * with each pod's colour. When a watch fails for good (the cluster is gone) it says so and
 * tries again every few seconds, from a fresh list.
 */

const RETRY_MS = 3000;

export interface WatchState {
  problem: string | null;
  desired: number | null;
  pods: PodCard[];
}

export class ClusterWatch {
  private pods: Informer<k8s.V1Pod> | undefined;
  private deployments: Informer<k8s.V1Deployment> | undefined;
  private colours: Record<string, number> = {};
  private problem: string | null = null;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;
  private generation = 0;

  constructor(
    private readonly api: KubeApi,
    private readonly ctx: Pick<Context, 'home'>,
    private readonly changed: () => void,
  ) {}

  async start(): Promise<void> {
    this.colours = await rememberedColours(this.ctx.home);
    await this.connect();
  }

  state(): WatchState {
    const pods = this.pods?.list() ?? [];
    const deployment = this.deployments?.get(DEPLOYMENT);
    return {
      problem: this.problem,
      desired: this.problem ? null : (deployment?.spec?.replicas ?? null),
      pods: this.problem
        ? []
        : pods.map((p) => podCard(p, this.colours)).sort((a, b) => a.name.localeCompare(b.name)),
    };
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.pods?.stop();
    this.deployments?.stop();
  }

  private async connect(): Promise<void> {
    this.generation += 1;
    const generation = this.generation;
    this.pods?.stop();
    this.deployments?.stop();
    const pods = this.api.pods({ labelSelector: APP_LABEL });
    const deployments = this.api.deployments();
    this.pods = pods;
    this.deployments = deployments;
    const onChange = () => {
      if (generation === this.generation) this.recolour();
    };
    const onFailure = (error: Error) => {
      if (generation === this.generation) this.lost(error);
    };
    pods.onChange(onChange);
    deployments.onChange(onChange);
    pods.onFailure(onFailure);
    deployments.onFailure(onFailure);
    try {
      await Promise.all([pods.start(), deployments.start()]);
      if (generation !== this.generation) return;
      this.problem = null;
      this.recolour();
    } catch (error) {
      onFailure(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** New pods take the lowest colour no live pod holds, as in the CLI, and it is remembered. */
  private recolour(): void {
    const live = (this.pods?.list() ?? []).map((p) => p.metadata?.name ?? '');
    const next = assignColours(this.colours, live);
    if (JSON.stringify(next) !== JSON.stringify(this.colours)) {
      this.colours = next;
      void rememberColours(this.ctx.home, next);
    }
    this.changed();
  }

  private lost(error: Error): void {
    if (this.stopped) return;
    const first = this.problem === null;
    this.problem = `The cluster is gone or does not answer: ${error.message.replace(/\s*\n\s*/g, ' ')} Trying again every ${RETRY_MS / 1000} s.`;
    if (first) this.changed();
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      if (!this.stopped) void this.connect();
    }, RETRY_MS);
  }
}
