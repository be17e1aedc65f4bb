import type { Store } from '../store.js';
import { NAMESPACES, resource } from './common.js';

/**
 * What kube-controller-manager puts in every namespace: the `default` ServiceAccount and
 * the `kube-root-ca.crt` ConfigMap, here holding the certificate the embedded cluster's
 * API server presents (its kubeconfig trusts that one).
 */

const SERVICEACCOUNTS = resource('serviceaccounts');
const CONFIGMAPS = resource('configmaps');

export class NamespaceDefaultsController {
  private unwatch: (() => void) | undefined;

  constructor(
    private readonly store: Store,
    private readonly rootCA: string,
  ) {}

  start(): void {
    for (const ns of this.store.list(NAMESPACES).items) this.ensure(ns.metadata.name);
    this.unwatch = this.store.watch(NAMESPACES, {}, (e) => {
      if (e.type !== 'DELETED' && !e.object.metadata.deletionTimestamp)
        this.ensure(e.object.metadata.name);
    });
  }

  stop(): Promise<void> {
    this.unwatch?.();
    return Promise.resolve();
  }

  private ensure(namespace: string): void {
    if (!this.store.get(SERVICEACCOUNTS, namespace, 'default'))
      this.store.create(SERVICEACCOUNTS, {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'default', namespace },
      });
    if (!this.store.get(CONFIGMAPS, namespace, 'kube-root-ca.crt'))
      this.store.create(CONFIGMAPS, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: 'kube-root-ca.crt',
          namespace,
          annotations: { 'kubernetes.io/description': ROOT_CA_DESCRIPTION },
        },
        data: { 'ca.crt': this.rootCA },
      });
  }
}

const ROOT_CA_DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';
