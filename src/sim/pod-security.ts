/**
 * The Pod Security Standards as the Kubernetes admission plugin checks them (policy version
 * `latest`), on plain pod data. The embedded cluster enforces a namespace's labels with this,
 * and the tests hold our pod templates to it, so reasons and details are worded exactly like
 * the real admission's: `allowPrivilegeEscalation != false (container "web" must set
 * securityContext.allowPrivilegeEscalation=false)`.
 */

export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';

export interface PodSecurityViolation {
  /** The admission plugin's check id, e.g. `runAsNonRoot`. */
  readonly check: string;
  /** Short reason, e.g. `runAsNonRoot != true`. */
  readonly reason: string;
  /** What to change, e.g. `pod or container "web" must set securityContext.runAsNonRoot=true`. */
  readonly detail: string;
}

export interface PodSecurityPolicy {
  readonly level: PodSecurityLevel;
  /** `latest` or `v1.<minor>`. Every version is evaluated with the `latest` checks. */
  readonly version: string;
}

export interface NamespacePodSecurity {
  readonly enforce: PodSecurityPolicy;
  readonly warn: PodSecurityPolicy;
  readonly audit: PodSecurityPolicy;
}

type Rec = Record<string, unknown>;

/** What the checks look at, read once from loosely typed pod data. */
interface PodView {
  readonly spec: Rec;
  readonly podSc: Rec | undefined;
  /** Init, regular and ephemeral containers, in that order (the admission plugin's order). */
  readonly containers: readonly Rec[];
  readonly annotations: Readonly<Record<string, string>>;
  readonly windows: boolean;
}

interface CheckResult {
  readonly reason: string;
  readonly detail: string;
}

interface Check {
  readonly id: string;
  readonly level: 'baseline' | 'restricted';
  /** Baseline checks this one replaces at the restricted level. */
  readonly overrides?: readonly string[];
  readonly run: (pod: PodView) => CheckResult | undefined;
}

function rec(value: unknown): Rec | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Rec)
    : undefined;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorted, without duplicates, like Go's `sets.String.List()`. */
function sortedSet(values: Iterable<string>): string[] {
  return [...new Set(values)].sort(compareCodeUnits);
}

function quote(value: string): string {
  return JSON.stringify(value);
}

function joinQuote(items: readonly string[]): string {
  return items.map(quote).join(', ');
}

function pluralize(singular: string, plural: string, count: number): string {
  return count === 1 ? singular : plural;
}

/** `container "a"` or `containers "a", "b"`. */
function containersPhrase(names: readonly string[]): string {
  return `${pluralize('container', 'containers', names.length)} ${joinQuote(names)}`;
}

function containerName(container: Rec): string {
  return str(container.name);
}

function sc(container: Rec): Rec | undefined {
  return rec(container.securityContext);
}

function view(podSpec: unknown, podMetadata: unknown): PodView {
  const spec = rec(podSpec) ?? {};
  const annotations: Record<string, string> = {};
  for (const [key, value] of Object.entries(rec(rec(podMetadata)?.annotations) ?? {})) {
    if (typeof value === 'string') annotations[key] = value;
  }
  const containers = [
    ...list(spec.initContainers),
    ...list(spec.containers),
    ...list(spec.ephemeralContainers),
  ]
    .map(rec)
    .filter((c): c is Rec => c !== undefined);
  return {
    spec,
    podSc: rec(spec.securityContext),
    containers,
    annotations,
    windows: str(rec(spec.os)?.name) === 'windows',
  };
}

/** Pod and containers that explicitly set a bad value: `pod and container "a"`. */
function settersPhrase(pod: boolean, containers: readonly string[]): string {
  const setters: string[] = [];
  if (pod) setters.push('pod');
  if (containers.length > 0) setters.push(containersPhrase(containers));
  return setters.join(' and ');
}

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

/** Volume sources the restricted level allows. */
const RESTRICTED_ALLOWED_VOLUME_TYPES = [
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
];

/** Volume sources the restricted level names when it refuses them. */
const RESTRICTED_VOLUME_TYPES = [
  'hostPath',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'gitRepo',
  'nfs',
  'iscsi',
  'glusterfs',
  'rbd',
  'flexVolume',
  'cinder',
  'cephfs',
  'flocker',
  'fc',
  'azureFile',
  'vsphereVolume',
  'quobyte',
  'azureDisk',
  'photonPersistentDisk',
  'portworxVolume',
  'scaleIO',
  'storageos',
];

function validSeccompType(type: unknown): boolean {
  return type === 'RuntimeDefault' || type === 'Localhost';
}

/** Seccomp values explicitly set to something other than RuntimeDefault/Localhost. */
function badSeccompSetters(pod: PodView) {
  const values: string[] = [];
  let podBad = false;
  const podProfile = rec(pod.podSc?.seccompProfile);
  if (podProfile && !validSeccompType(podProfile.type)) {
    podBad = true;
    values.push(str(podProfile.type));
  }
  const containers: string[] = [];
  for (const c of pod.containers) {
    const profile = rec(sc(c)?.seccompProfile);
    if (profile && !validSeccompType(profile.type)) {
      containers.push(containerName(c));
      values.push(str(profile.type));
    }
  }
  return { podBad, containers, values: sortedSet(values) };
}

function probeHosts(handler: unknown): string[] {
  const h = rec(handler);
  if (!h) return [];
  return [str(rec(h.httpGet)?.host), str(rec(h.tcpSocket)?.host)].filter((host) => host !== '');
}

const CHECKS: readonly Check[] = [
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
  {
    id: 'allowPrivilegeEscalation',
    level: 'restricted',
    run: (pod) => {
      // Linux-only since policy v1.25: Windows has no setuid escalation to stop.
      if (pod.windows) return undefined;
      const bad = pod.containers
        .filter((c) => sc(c)?.allowPrivilegeEscalation !== false)
        .map(containerName);
      if (bad.length === 0) return undefined;
      return {
        reason: 'allowPrivilegeEscalation != false',
        detail: `${containersPhrase(bad)} must set securityContext.allowPrivilegeEscalation=false`,
      };
    },
  },
  {
    id: 'capabilities_restricted',
    level: 'restricted',
    overrides: ['capabilities_baseline'],
    run: (pod) => {
      if (pod.windows) return undefined;
      const missingDropAll: string[] = [];
      const addingForbidden: string[] = [];
      const forbiddenCapabilities: string[] = [];
      for (const c of pod.containers) {
        const capabilities = rec(sc(c)?.capabilities);
        if (!list(capabilities?.drop).includes('ALL')) missingDropAll.push(containerName(c));
        const bad = list(capabilities?.add)
          .map(str)
          .filter((cap) => cap !== 'NET_BIND_SERVICE');
        if (bad.length > 0) {
          addingForbidden.push(containerName(c));
          forbiddenCapabilities.push(...bad);
        }
      }
      const details: string[] = [];
      if (missingDropAll.length > 0) {
        details.push(
          `${containersPhrase(missingDropAll)} must set securityContext.capabilities.drop=["ALL"]`,
        );
      }
      if (addingForbidden.length > 0) {
        details.push(
          `${containersPhrase(addingForbidden)} must not include ${joinQuote(sortedSet(forbiddenCapabilities))} in securityContext.capabilities.add`,
        );
      }
      if (details.length === 0) return undefined;
      return { reason: 'unrestricted capabilities', detail: details.join('; ') };
    },
  },
  {
    id: 'procMount_restricted',
    level: 'restricted',
    overrides: ['procMount_baseline'],
    run: (pod) => procMount(pod),
  },
  {
    id: 'restrictedVolumes',
    level: 'restricted',
    overrides: ['hostPathVolumes'],
    run: (pod) => {
      const badVolumes: string[] = [];
      const badTypes: string[] = [];
      for (const volume of list(pod.spec.volumes).map(rec)) {
        if (!volume) continue;
        if (RESTRICTED_ALLOWED_VOLUME_TYPES.some((type) => volume[type] != null)) continue;
        badVolumes.push(str(volume.name));
        badTypes.push(RESTRICTED_VOLUME_TYPES.find((type) => volume[type] != null) ?? 'unknown');
      }
      if (badVolumes.length === 0) return undefined;
      const types = sortedSet(badTypes);
      return {
        reason: 'restricted volume types',
        detail: `${pluralize('volume', 'volumes', badVolumes.length)} ${joinQuote(badVolumes)} ${pluralize('uses', 'use', badVolumes.length)} ${pluralize('restricted volume type', 'restricted volume types', types.length)} ${joinQuote(types)}`,
      };
    },
  },
  {
    id: 'runAsNonRoot',
    level: 'restricted',
    run: (pod) => {
      const podValue = pod.podSc?.runAsNonRoot;
      const podBad = podValue === false;
      const podTrue = podValue === true;
      const explicitlyBad: string[] = [];
      const implicitlyBad: string[] = [];
      for (const c of pod.containers) {
        const value = sc(c)?.runAsNonRoot;
        if (typeof value === 'boolean') {
          if (!value) explicitlyBad.push(containerName(c));
        } else if (!podTrue) {
          implicitlyBad.push(containerName(c));
        }
      }
      if (podBad || explicitlyBad.length > 0) {
        return {
          reason: 'runAsNonRoot != true',
          detail: `${settersPhrase(podBad, explicitlyBad)} must not set securityContext.runAsNonRoot=false`,
        };
      }
      if (implicitlyBad.length > 0) {
        return {
          reason: 'runAsNonRoot != true',
          detail: `pod or ${containersPhrase(implicitlyBad)} must set securityContext.runAsNonRoot=true`,
        };
      }
      return undefined;
    },
  },
  {
    id: 'runAsUser',
    level: 'restricted',
    run: (pod) => {
      const podBad = pod.podSc?.runAsUser === 0;
      const bad = pod.containers.filter((c) => sc(c)?.runAsUser === 0).map(containerName);
      if (!podBad && bad.length === 0) return undefined;
      return {
        reason: 'runAsUser=0',
        detail: `${settersPhrase(podBad, bad)} must not set runAsUser=0`,
      };
    },
  },
  {
    id: 'seccompProfile_restricted',
    level: 'restricted',
    overrides: ['seccompProfile_baseline'],
    run: (pod) => {
      if (pod.windows) return undefined;
      const bad = badSeccompSetters(pod);
      if (bad.podBad || bad.containers.length > 0) {
        return {
          reason: 'seccompProfile',
          detail: `${settersPhrase(bad.podBad, bad.containers)} must not set securityContext.seccompProfile.type to ${joinQuote(bad.values)}`,
        };
      }
      const podSet = rec(pod.podSc?.seccompProfile) !== undefined;
      const implicitlyBad = pod.containers
        .filter((c) => rec(sc(c)?.seccompProfile) === undefined && !podSet)
        .map(containerName);
      if (implicitlyBad.length === 0) return undefined;
      return {
        reason: 'seccompProfile',
        detail: `pod or ${containersPhrase(implicitlyBad)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
      };
    },
  },
];

function procMount(pod: PodView): CheckResult | undefined {
  const badContainers: string[] = [];
  const types: string[] = [];
  for (const c of pod.containers) {
    const value = sc(c)?.procMount;
    if (value === undefined || value === null || value === 'Default') continue;
    badContainers.push(containerName(c));
    types.push(str(value));
  }
  if (badContainers.length === 0) return undefined;
  return {
    reason: 'procMount',
    detail: `${containersPhrase(badContainers)} must not set securityContext.procMount to ${joinQuote(sortedSet(types))}`,
  };
}

/** Baseline checks first, then restricted ones, each group by id: the admission plugin's order. */
function checksFor(level: PodSecurityLevel): Check[] {
  if (level === 'privileged') return [];
  const byId = (a: Check, b: Check) => compareCodeUnits(a.id, b.id);
  const baseline = CHECKS.filter((c) => c.level === 'baseline').sort(byId);
  if (level === 'baseline') return baseline;
  const restricted = CHECKS.filter((c) => c.level === 'restricted').sort(byId);
  const overridden = new Set(restricted.flatMap((c) => c.overrides ?? []));
  return [...baseline.filter((c) => !overridden.has(c.id)), ...restricted];
}

/** Every way the pod breaks `level`, in the order the admission plugin reports them. */
export function evaluatePodSecurity(
  level: PodSecurityLevel,
  podSpec: unknown,
  podMetadata?: unknown,
): PodSecurityViolation[] {
  const pod = view(podSpec, podMetadata);
  const violations: PodSecurityViolation[] = [];
  for (const check of checksFor(level)) {
    const result = check.run(pod);
    if (result) violations.push({ check: check.id, ...result });
  }
  return violations;
}

/** `reason (detail)`, as the admission plugin prints one violation. */
export function formatViolation(violation: PodSecurityViolation): string {
  return violation.detail === '' ? violation.reason : `${violation.reason} (${violation.detail})`;
}

/** The `restricted` profile's complaints about a pod spec, worded like the real admission's. */
export function restrictedViolations(podSpec: unknown, podMetadata?: unknown): string[] {
  return evaluatePodSecurity('restricted', podSpec, podMetadata).map(formatViolation);
}

export function baselineViolations(podSpec: unknown, podMetadata?: unknown): string[] {
  return evaluatePodSecurity('baseline', podSpec, podMetadata).map(formatViolation);
}

function policyName(policy: PodSecurityPolicy): string {
  return `${policy.level}:${policy.version}`;
}

/** The Forbidden message of a pod refused by `enforce`. */
export function forbiddenPodMessage(
  podName: string,
  policy: PodSecurityPolicy,
  violations: readonly PodSecurityViolation[],
): string {
  return `pods ${quote(podName)} is forbidden: violates PodSecurity ${quote(policyName(policy))}: ${violations.map(formatViolation).join(', ')}`;
}

/** The warning kubectl prints for `warn` (and for Deployments, whose pods would be refused). */
export function podSecurityWarning(
  policy: PodSecurityPolicy,
  violations: readonly PodSecurityViolation[],
): string {
  return `would violate PodSecurity ${quote(policyName(policy))}: ${violations.map(formatViolation).join(', ')}`;
}

const LABEL_PREFIX = 'pod-security.kubernetes.io/';
const LEVELS: readonly string[] = ['privileged', 'baseline', 'restricted'];
const VERSION = /^(latest|v1\.(0|[1-9][0-9]*))$/;

/**
 * The policies a namespace's labels ask for. No level label means `privileged` (the
 * admission plugin's default); an unreadable label falls back to the strictest reading,
 * `restricted` and `latest`, as the real plugin does.
 */
export function podSecurityFromLabels(
  labels: Readonly<Record<string, string>> | undefined,
): NamespacePodSecurity {
  const policy = (mode: 'enforce' | 'warn' | 'audit'): PodSecurityPolicy => {
    const level = labels?.[`${LABEL_PREFIX}${mode}`];
    const version = labels?.[`${LABEL_PREFIX}${mode}-version`];
    return {
      level:
        level === undefined
          ? 'privileged'
          : LEVELS.includes(level)
            ? (level as PodSecurityLevel)
            : 'restricted',
      version: version !== undefined && VERSION.test(version) ? version : 'latest',
    };
  };
  return { enforce: policy('enforce'), warn: policy('warn'), audit: policy('audit') };
}

/**
 * What our own pod templates must set beyond the restricted profile, which accepts some of
 * these being left out (container-level runAsNonRoot when the pod sets it) or never looks at
 * them (read-only root filesystem, numeric user and group, the service-account token).
 */
export function hardeningGaps(podSpec: unknown): string[] {
  const spec = rec(podSpec) ?? {};
  const podSc = rec(spec.securityContext);
  const gaps: string[] = [];
  const positiveInteger = (value: unknown) =>
    typeof value === 'number' && Number.isInteger(value) && value > 0;
  if (spec.automountServiceAccountToken !== false) {
    gaps.push('spec.automountServiceAccountToken must be false');
  }
  if (podSc?.runAsNonRoot !== true) gaps.push('spec.securityContext.runAsNonRoot must be true');
  if (!positiveInteger(podSc?.runAsUser)) {
    gaps.push('spec.securityContext.runAsUser must be a number above 0');
  }
  if (!positiveInteger(podSc?.runAsGroup)) {
    gaps.push('spec.securityContext.runAsGroup must be a number above 0');
  }
  if (!validSeccompType(rec(podSc?.seccompProfile)?.type)) {
    gaps.push('spec.securityContext.seccompProfile.type must be RuntimeDefault or Localhost');
  }
  for (const c of view(spec, undefined).containers) {
    const where = `container ${quote(containerName(c))}:`;
    const csc = sc(c);
    if (csc?.runAsNonRoot !== true) gaps.push(`${where} securityContext.runAsNonRoot must be true`);
    if (csc?.allowPrivilegeEscalation !== false) {
      gaps.push(`${where} securityContext.allowPrivilegeEscalation must be false`);
    }
    if (!list(rec(csc?.capabilities)?.drop).includes('ALL')) {
      gaps.push(`${where} securityContext.capabilities.drop must include ALL`);
    }
    if (csc?.readOnlyRootFilesystem !== true) {
      gaps.push(`${where} securityContext.readOnlyRootFilesystem must be true`);
    }
  }
  return gaps;
}
