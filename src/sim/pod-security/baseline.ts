import {
  compareCodeUnits,
  containerName,
  containersPhrase,
  joinQuote,
  list,
  pluralize,
  quote,
  rec,
  sc,
  settersPhrase,
  sortedSet,
  str,
  badSeccompSetters,
  procMount,
  type Check,
  type Rec,
} from './view.js';

/** The `baseline` level's checks, as the admission plugin words them. */

const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);

const SELINUX_TYPES = new Set([
  '',
  'container_t',
  'container_init_t',
  'container_kvm_t',
  'container_engine_t',
]);

const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
]);

function probeHosts(handler: unknown): string[] {
  const h = rec(handler);
  if (!h) return [];
  return [str(rec(h.httpGet)?.host), str(rec(h.tcpSocket)?.host)].filter((host) => host !== '');
}

export const BASELINE_CHECKS: readonly Check[] = [
  {
    id: 'appArmorProfile',
    level: 'baseline',
    run: (pod) => {
      const badValues: string[] = [];
      const badType = (holder: Rec | undefined): boolean => {
        const profile = rec(holder?.appArmorProfile);
        if (!profile || profile.type === 'RuntimeDefault' || profile.type === 'Localhost') {
          return false;
        }
        badValues.push(str(profile.type));
        return true;
      };
      const podBad = badType(pod.podSc);
      const badContainers = pod.containers.filter((c) => badType(sc(c))).map(containerName);
      const annotations: string[] = [];
      for (const [key, value] of Object.entries(pod.annotations)) {
        const allowed =
          value === '' || value === 'runtime/default' || value.startsWith('localhost/');
        if (key.startsWith(APPARMOR_ANNOTATION_PREFIX) && !allowed) {
          annotations.push(`${key}=${quote(value)}`);
        }
      }
      const setters: string[] = [];
      if (podBad || badContainers.length > 0) setters.push(settersPhrase(podBad, badContainers));
      if (annotations.length > 0) {
        setters.push(pluralize('annotation', 'annotations', annotations.length));
      }
      if (setters.length === 0) return undefined;
      // Quoted without escaping, as the admission plugin does, annotations included.
      const values = [...sortedSet(badValues), ...annotations.sort(compareCodeUnits)];
      return {
        reason: pluralize(
          'forbidden AppArmor profile',
          'forbidden AppArmor profiles',
          values.length,
        ),
        detail: `${setters.join(' and ')} must not set AppArmor profile type to ${values.map((v) => `"${v}"`).join(', ')}`,
      };
    },
  },
  {
    id: 'capabilities_baseline',
    level: 'baseline',
    run: (pod) => {
      const badContainers: string[] = [];
      const capabilities: string[] = [];
      for (const c of pod.containers) {
        const added = list(rec(sc(c)?.capabilities)?.add).map(str);
        const bad = added.filter((cap) => !BASELINE_CAPABILITIES.has(cap));
        if (bad.length > 0) {
          badContainers.push(containerName(c));
          capabilities.push(...bad);
        }
      }
      if (badContainers.length === 0) return undefined;
      return {
        reason: 'non-default capabilities',
        detail: `${containersPhrase(badContainers)} must not include ${joinQuote(sortedSet(capabilities))} in securityContext.capabilities.add`,
      };
    },
  },
  {
    id: 'hostNamespaces',
    level: 'baseline',
    run: (pod) => {
      const used = (['hostNetwork', 'hostPID', 'hostIPC'] as const).filter(
        (field) => pod.spec[field] === true,
      );
      if (used.length === 0) return undefined;
      return { reason: 'host namespaces', detail: used.map((f) => `${f}=true`).join(', ') };
    },
  },
  {
    id: 'hostPathVolumes',
    level: 'baseline',
    run: (pod) => {
      const names = list(pod.spec.volumes)
        .map(rec)
        .filter((v): v is Rec => v !== undefined && rec(v.hostPath) !== undefined)
        .map((v) => str(v.name));
      if (names.length === 0) return undefined;
      return {
        reason: 'hostPath volumes',
        detail: `${pluralize('volume', 'volumes', names.length)} ${joinQuote(names)}`,
      };
    },
  },
  {
    id: 'hostPorts',
    level: 'baseline',
    run: (pod) => {
      const badContainers: string[] = [];
      const ports: string[] = [];
      for (const c of pod.containers) {
        const hostPorts = list(c.ports)
          .map((p) => rec(p)?.hostPort)
          .filter((p): p is number => typeof p === 'number' && p !== 0);
        if (hostPorts.length > 0) {
          badContainers.push(containerName(c));
          ports.push(...hostPorts.map(String));
        }
      }
      if (badContainers.length === 0) return undefined;
      // Sorted as strings, as the admission plugin does.
      const sortedPorts = sortedSet(ports);
      return {
        reason: 'hostPort',
        detail: `${containersPhrase(badContainers)} ${pluralize('uses', 'use', badContainers.length)} ${pluralize('hostPort', 'hostPorts', sortedPorts.length)} ${sortedPorts.join(', ')}`,
      };
    },
  },
  {
    id: 'hostProbesAndHostLifecycle',
    level: 'baseline',
    run: (pod) => {
      const badContainers: string[] = [];
      const hosts: string[] = [];
      for (const c of pod.containers) {
        const lifecycle = rec(c.lifecycle);
        const found = [
          ...probeHosts(c.livenessProbe),
          ...probeHosts(c.readinessProbe),
          ...probeHosts(c.startupProbe),
          ...probeHosts(lifecycle?.postStart),
          ...probeHosts(lifecycle?.preStop),
        ];
        if (found.length > 0) {
          badContainers.push(containerName(c));
          hosts.push(...found);
        }
      }
      if (badContainers.length === 0) return undefined;
      const names = sortedSet(badContainers);
      const sortedHosts = sortedSet(hosts);
      return {
        reason: 'probe or lifecycle host',
        detail: `${containersPhrase(names)} ${pluralize('uses', 'use', names.length)} ${pluralize('probe or lifecycle host', 'probe or lifecycle hosts', sortedHosts.length)} ${joinQuote(sortedHosts)}`,
      };
    },
  },
  {
    id: 'privileged',
    level: 'baseline',
    run: (pod) => {
      const bad = pod.containers.filter((c) => sc(c)?.privileged === true).map(containerName);
      if (bad.length === 0) return undefined;
      return {
        reason: 'privileged',
        detail: `${containersPhrase(bad)} must not set securityContext.privileged=true`,
      };
    },
  },
  {
    id: 'procMount_baseline',
    level: 'baseline',
    run: (pod) => procMount(pod),
  },
  {
    id: 'seLinuxOptions',
    level: 'baseline',
    run: (pod) => {
      const badTypes: string[] = [];
      let setUser = false;
      let setRole = false;
      const valid = (options: Rec) => {
        let ok = true;
        const type = str(options.type);
        if (!SELINUX_TYPES.has(type)) {
          ok = false;
          badTypes.push(type);
        }
        if (str(options.user) !== '') {
          ok = false;
          setUser = true;
        }
        if (str(options.role) !== '') {
          ok = false;
          setRole = true;
        }
        return ok;
      };
      const podOptions = rec(pod.podSc?.seLinuxOptions);
      const podBad = podOptions !== undefined && !valid(podOptions);
      const badContainers = pod.containers
        .filter((c) => {
          const options = rec(sc(c)?.seLinuxOptions);
          return options !== undefined && !valid(options);
        })
        .map(containerName);
      if (!podBad && badContainers.length === 0) return undefined;
      const problems: string[] = [];
      const types = sortedSet(badTypes);
      if (types.length > 0) {
        problems.push(`${pluralize('type', 'types', types.length)} ${joinQuote(types)}`);
      }
      if (setUser) problems.push('user may not be set');
      if (setRole) problems.push('role may not be set');
      return {
        reason: 'seLinuxOptions',
        detail: `${settersPhrase(podBad, badContainers)} set forbidden securityContext.seLinuxOptions: ${problems.join('; ')}`,
      };
    },
  },
  {
    id: 'seccompProfile_baseline',
    level: 'baseline',
    run: (pod) => {
      const bad = badSeccompSetters(pod);
      if (!bad.podBad && bad.containers.length === 0) return undefined;
      return {
        reason: 'seccompProfile',
        detail: `${settersPhrase(bad.podBad, bad.containers)} must not set securityContext.seccompProfile.type to ${joinQuote(bad.values)}`,
      };
    },
  },
  {
    id: 'sysctls',
    level: 'baseline',
    run: (pod) => {
      const forbidden = list(pod.podSc?.sysctls)
        .map((s) => str(rec(s)?.name))
        .filter((name) => !SAFE_SYSCTLS.has(name));
      if (forbidden.length === 0) return undefined;
      return { reason: 'forbidden sysctls', detail: forbidden.join(', ') };
    },
  },
  {
    id: 'windowsHostProcess',
    level: 'baseline',
    run: (pod) => {
      const hostProcess = (holder: Rec | undefined) =>
        rec(holder?.windowsOptions)?.hostProcess === true;
      const podBad = hostProcess(pod.podSc);
      const badContainers = pod.containers.filter((c) => hostProcess(sc(c))).map(containerName);
      if (!podBad && badContainers.length === 0) return undefined;
      return {
        reason: 'hostProcess',
        detail: `${settersPhrase(podBad, badContainers)} must not set securityContext.windowsOptions.hostProcess=true`,
      };
    },
  },
];
