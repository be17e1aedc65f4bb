import { parse } from 'yaml';

/**
 * How the cluster's Service proxy chooses a pod, read where kubeadm and kind keep
 * kube-proxy's configuration (ConfigMap kube-proxy in kube-system, key config.conf).
 */

export type ProxyModeName = 'iptables' | 'nftables' | 'ipvs' | 'unknown';

export interface ProxyMode {
  mode: ProxyModeName;
  /** Where the answer came from, or why there is none, in words. */
  source: string;
  /** The embedded cluster's own proxy, which behaves as `mode` says (it is not kube-proxy). */
  embedded?: boolean;
}

/** kube-proxy's mode from its config.conf; an empty or absent mode is iptables on Linux. */
export function proxyModeFromConfig(configConf: string | undefined): ProxyMode {
  if (configConf === undefined) {
    return {
      mode: 'unknown',
      source:
        'no kube-proxy ConfigMap in kube-system (the cluster may replace kube-proxy, as Cilium can)',
    };
  }
  let mode: unknown;
  try {
    mode = (parse(configConf) as { mode?: unknown } | null)?.mode;
  } catch {
    return { mode: 'unknown', source: "kube-proxy's config.conf is not YAML" };
  }
  const source = 'ConfigMap kube-system/kube-proxy';
  if (mode === undefined || mode === null || mode === '') {
    return { mode: 'iptables', source: `${source} (no mode set: iptables, the Linux default)` };
  }
  if (mode === 'iptables' || mode === 'nftables' || mode === 'ipvs') return { mode, source };
  return { mode: 'unknown', source: `${source} says mode ${JSON.stringify(mode)}` };
}

/** One sentence on how this mode spreads connections, for blast's explanation and status. */
export function proxyModeSentence(proxy: ProxyMode): string {
  if (proxy.embedded && proxy.mode !== 'unknown') {
    return `The embedded cluster's Service proxy picks as kube-proxy's ${proxy.mode} mode does: a ready pod at random once per connection, not per request.`;
  }
  switch (proxy.mode) {
    case 'iptables':
    case 'nftables':
      return `kube-proxy runs in ${proxy.mode} mode here: it picks a ready pod at random once per connection, not per request.`;
    case 'ipvs':
      return 'kube-proxy runs in IPVS mode here: its default scheduler is round robin, so new connections take the pods in turn and the split comes out near even.';
    case 'unknown':
      return `How this cluster's Service proxy picks a pod is not known (${proxy.source}); kube-proxy's iptables and nftables modes pick at random per connection, IPVS in turn.`;
  }
}
