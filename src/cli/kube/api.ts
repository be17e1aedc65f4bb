import * as k8s from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import { APP_LABEL, DEPLOYMENT, SERVICE } from '../core/names.js';
import { contextMissing, type Target } from '../target.js';
import { proxyModeFromConfig, type ProxyMode } from '../core/proxy-mode.js';
import { apiErrorMessage, isNotFound, translateApiError, type TranslateOptions } from './errors.js';
import { Informer } from './informer.js';
import { openTunnel, type Tunnel } from './port-forward.js';

/**
 * Every call this tool makes to the Kubernetes API, bound to the context resolved once at
 * the start (a fresh KubeConfig per run, never whatever `current-context` says later).
 * Each call names what it does, so a failure reads "Could not <what>: <the API's words>".
 */

export interface Selectors {
  labelSelector?: string;
  fieldSelector?: string;
}

function selectorArgs(selectors: Selectors): Selectors {
  return {
    ...(selectors.labelSelector !== undefined ? { labelSelector: selectors.labelSelector } : {}),
    ...(selectors.fieldSelector !== undefined ? { fieldSelector: selectors.fieldSelector } : {}),
  };
}

/** Which part of a log to read: the last `sinceSeconds`, each line prefixed with its time. */
export interface LogOptions {
  sinceSeconds?: number;
  timestamps?: boolean;
}

export class KubeApi {
  readonly namespace: string;
  private readonly core: k8s.CoreV1Api;
  private readonly apps: k8s.AppsV1Api;
  private readonly batch: k8s.BatchV1Api;

  constructor(
    readonly kc: k8s.KubeConfig,
    readonly target: Pick<Target, 'mode' | 'context' | 'namespace'>,
  ) {
    this.namespace = target.namespace;
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.apps = kc.makeApiClient(k8s.AppsV1Api);
    this.batch = kc.makeApiClient(k8s.BatchV1Api);
  }

  /** Translates any failure of `call` into the error the user reads. */
  async call<T>(what: string, call: () => Promise<T>, options?: TranslateOptions): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw translateApiError(error, what, this.target, options);
    }
  }

  readDeployment(): Promise<k8s.V1Deployment> {
    return this.call(
      `read Deployment ${DEPLOYMENT}`,
      () => this.apps.readNamespacedDeployment({ name: DEPLOYMENT, namespace: this.namespace }),
      { madeByUp: true },
    );
  }

  readService(): Promise<k8s.V1Service> {
    return this.call(
      `read Service ${SERVICE}`,
      () => this.core.readNamespacedService({ name: SERVICE, namespace: this.namespace }),
      { madeByUp: true },
    );
  }

  /**
   * Sets the Service's sessionAffinity (and its config: none for `None`, as the API requires)
   * with a merge patch, which touches nothing else.
   */
  async setSessionAffinity(
    affinity: string,
    config: k8s.V1SessionAffinityConfig | undefined,
  ): Promise<k8s.V1Service> {
    return this.call(`set the sessionAffinity of Service ${SERVICE}`, () =>
      this.core.patchNamespacedService(
        {
          name: SERVICE,
          namespace: this.namespace,
          body: { spec: { sessionAffinity: affinity, sessionAffinityConfig: config ?? null } },
        },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      ),
    );
  }

  /** Sets the Deployment's replicas through its scale subresource, as `kubectl scale` does. */
  async scaleDeployment(replicas: number): Promise<void> {
    await this.call(`scale Deployment ${DEPLOYMENT} to ${replicas}`, () =>
      this.apps.patchNamespacedDeploymentScale(
        { name: DEPLOYMENT, namespace: this.namespace, body: { spec: { replicas } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      ),
    );
  }

  /** The lesson's Deployment and Service as they are, each undefined when it is not there. */
  async findLesson(): Promise<{ deployment?: k8s.V1Deployment; service?: k8s.V1Service }> {
    const missingAsUndefined = async <T>(what: string, read: () => Promise<T>) => {
      try {
        return await read();
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw translateApiError(error, what, this.target);
      }
    };
    const [deployment, service] = await Promise.all([
      missingAsUndefined(`read Deployment ${DEPLOYMENT}`, () =>
        this.apps.readNamespacedDeployment({ name: DEPLOYMENT, namespace: this.namespace }),
      ),
      missingAsUndefined(`read Service ${SERVICE}`, () =>
        this.core.readNamespacedService({ name: SERVICE, namespace: this.namespace }),
      ),
    ]);
    return { ...(deployment ? { deployment } : {}), ...(service ? { service } : {}) };
  }

  /** The Service's Endpoints object; undefined until the endpoints controller has made it. */
  async readServiceEndpoints(): Promise<k8s.V1Endpoints | undefined> {
    try {
      return await this.core.readNamespacedEndpoints({ name: SERVICE, namespace: this.namespace });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw translateApiError(error, `read the endpoints of Service ${SERVICE}`, this.target);
    }
  }

  /**
   * How the Service proxy picks pods, from kube-proxy's ConfigMap. Never fails: a ConfigMap
   * that is missing or may not be read makes the mode unknown, with the reason.
   */
  async proxyMode(): Promise<ProxyMode> {
    try {
      const map = await this.core.readNamespacedConfigMap({
        name: 'kube-proxy',
        namespace: 'kube-system',
      });
      const proxy = proxyModeFromConfig(map.data?.['config.conf'] ?? '');
      return this.target.mode === 'sim' ? { ...proxy, embedded: true } : proxy;
    } catch (error) {
      if (isNotFound(error)) return proxyModeFromConfig(undefined);
      return {
        mode: 'unknown',
        source: `ConfigMap kube-system/kube-proxy could not be read (${apiErrorMessage(error)})`,
      };
    }
  }

  async listPods(selectors: Selectors): Promise<k8s.V1Pod[]> {
    const list = await this.call(`list the pods in ${this.namespace}`, () =>
      this.core.listNamespacedPod({ namespace: this.namespace, ...selectorArgs(selectors) }),
    );
    return list.items;
  }

  /** The lesson's pods as the API returns them now (for the report table). */
  listAppPods(): Promise<k8s.V1Pod[]> {
    return this.listPods({ labelSelector: APP_LABEL });
  }

  async deletePod(name: string, gracePeriodSeconds?: number): Promise<void> {
    await this.call(`delete pod ${name}`, () =>
      this.core.deleteNamespacedPod({
        name,
        namespace: this.namespace,
        ...(gracePeriodSeconds !== undefined ? { gracePeriodSeconds } : {}),
      }),
    );
  }

  async createJob(job: k8s.V1Job): Promise<void> {
    await this.call(`create Job ${job.metadata?.name ?? ''}`, () =>
      this.batch.createNamespacedJob({ namespace: this.namespace, body: job }),
    );
  }

  /**
   * Background propagation: a Job deleted through the API otherwise orphans its pods (the
   * batch/v1 default), and they would be left behind. Resolves false if it was already gone.
   */
  async deleteJob(name: string): Promise<boolean> {
    try {
      await this.batch.deleteNamespacedJob({
        name,
        namespace: this.namespace,
        propagationPolicy: 'Background',
      });
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw translateApiError(error, `delete Job ${name}`, this.target);
    }
  }

  /** The whole log of one container, as text. */
  readPodLog(pod: string, container: string, options: LogOptions = {}): Promise<string> {
    return this.call(`read the log of pod ${pod}`, async () => {
      const text: unknown = await this.core.readNamespacedPodLog({
        name: pod,
        namespace: this.namespace,
        container,
        ...options,
      });
      return typeof text === 'string' ? text : String(text);
    });
  }

  /** Follows a container's log as it is written (`kubectl logs -f`); stop() ends it. */
  followPodLog(
    pod: string,
    container: string,
    onText: (text: string) => void,
    options: LogOptions = {},
  ): Promise<{ stop(): void }> {
    return this.call(`follow the log of pod ${pod}`, async () => {
      const sink = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          onText(chunk.toString('utf8'));
          callback();
        },
      });
      const controller = await new k8s.Log(this.kc).log(this.namespace, pod, container, sink, {
        follow: true,
        ...options,
      });
      return { stop: () => controller.abort() };
    });
  }

  /** A local port tunnelled to `pod:port` through the API server, like kubectl port-forward. */
  openTunnel(pod: string, port: number): Promise<Tunnel> {
    return this.call(`open a port-forward to pod ${pod}`, () =>
      openTunnel(this.kc, this.namespace, pod, port),
    );
  }

  pods(selectors: Selectors = {}): Informer<k8s.V1Pod> {
    return this.informer(
      'follow the pods',
      `/api/v1/namespaces/${this.namespace}/pods`,
      selectors,
      () => this.core.listNamespacedPod({ namespace: this.namespace, ...selectorArgs(selectors) }),
    );
  }

  jobs(selectors: Selectors = {}): Informer<k8s.V1Job> {
    return this.informer(
      'follow the Jobs',
      `/apis/batch/v1/namespaces/${this.namespace}/jobs`,
      selectors,
      () => this.batch.listNamespacedJob({ namespace: this.namespace, ...selectorArgs(selectors) }),
    );
  }

  events(selectors: Selectors = {}): Informer<k8s.CoreV1Event> {
    return this.informer(
      'follow the events',
      `/api/v1/namespaces/${this.namespace}/events`,
      selectors,
      () =>
        this.core.listNamespacedEvent({ namespace: this.namespace, ...selectorArgs(selectors) }),
    );
  }

  endpoints(selectors: Selectors = {}): Informer<k8s.V1Endpoints> {
    return this.informer(
      'follow the Service endpoints',
      `/api/v1/namespaces/${this.namespace}/endpoints`,
      selectors,
      () =>
        this.core.listNamespacedEndpoints({
          namespace: this.namespace,
          ...selectorArgs(selectors),
        }),
    );
  }

  deployments(selectors: Selectors = {}): Informer<k8s.V1Deployment> {
    return this.informer(
      'follow the Deployment',
      `/apis/apps/v1/namespaces/${this.namespace}/deployments`,
      selectors,
      () =>
        this.apps.listNamespacedDeployment({
          namespace: this.namespace,
          ...selectorArgs(selectors),
        }),
    );
  }

  /** Cluster-scoped: the namespaces themselves. */
  namespaces(selectors: Selectors = {}): Informer<k8s.V1Namespace> {
    return new Informer<k8s.V1Namespace>(this.kc, {
      path: '/api/v1/namespaces',
      list: () => this.core.listNamespace(selectorArgs(selectors)),
      ...selectorArgs(selectors),
      translate: (error) => translateApiError(error, 'follow the namespaces', this.target),
    });
  }

  private informer<T extends k8s.KubernetesObject>(
    what: string,
    path: string,
    selectors: Selectors,
    list: () => Promise<k8s.KubernetesListObject<T>>,
  ): Informer<T> {
    return new Informer<T>(this.kc, {
      path,
      list,
      namespace: this.namespace,
      ...selectorArgs(selectors),
      translate: (error) => translateApiError(error, `${what} in ${this.namespace}`, this.target),
    });
  }
}

/** The API of the target's context, from its kubeconfig (the embedded cluster's own file). */
export function connect(
  target: Pick<Target, 'mode' | 'context' | 'kubeconfig' | 'namespace'>,
): KubeApi {
  const kc = new k8s.KubeConfig();
  if (target.kubeconfig !== undefined) kc.loadFromFile(target.kubeconfig);
  else kc.loadFromDefault();
  if (kc.getContextObject(target.context) === null) throw contextMissing(target);
  kc.setCurrentContext(target.context);
  return new KubeApi(kc, target);
}
