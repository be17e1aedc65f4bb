import { describe, expect, it } from 'vitest';
import {
  baselineViolations,
  evaluatePodSecurity,
  forbiddenPodMessage,
  hardeningGaps,
  podSecurityFromLabels,
  podSecurityWarning,
  restrictedViolations,
} from '../src/sim/pod-security.js';

type Spec = Record<string, unknown>;

/** A pod spec that passes `restricted`; tests break one thing at a time. */
function compliant(): Spec {
  return {
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    containers: [
      {
        name: 'app',
        image: 'x',
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
      },
    ],
  };
}

function withContainer(spec: Spec, edit: Record<string, unknown>): Spec {
  const containers = spec.containers as Record<string, unknown>[];
  const first = containers[0] ?? {};
  return { ...spec, containers: [{ ...first, ...edit }, ...containers.slice(1)] };
}

function withContainerSc(spec: Spec, edit: Record<string, unknown>): Spec {
  const first = (spec.containers as Record<string, unknown>[])[0] ?? {};
  return withContainer(spec, {
    securityContext: { ...(first.securityContext as Record<string, unknown>), ...edit },
  });
}

function withPodSc(spec: Spec, edit: Record<string, unknown>): Spec {
  return {
    ...spec,
    securityContext: { ...(spec.securityContext as Record<string, unknown>), ...edit },
  };
}

describe('restrictedViolations, against messages the real admission printed', () => {
  it('a bare container gets the four classic complaints, in the real order', () => {
    expect(restrictedViolations({ containers: [{ name: 'app', image: 'nginx' }] })).toEqual([
      'allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false)',
      'unrestricted capabilities (container "app" must set securityContext.capabilities.drop=["ALL"])',
      'runAsNonRoot != true (pod or container "app" must set securityContext.runAsNonRoot=true)',
      'seccompProfile (pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    ]);
  });

  it('a privileged pod with a hostPath volume gets six, baseline ones first', () => {
    const spec = {
      containers: [{ name: 'c', image: 'x', securityContext: { privileged: true } }],
      volumes: [{ name: 'host', hostPath: { path: '/' } }],
    };
    expect(restrictedViolations(spec)).toEqual([
      'privileged (container "c" must not set securityContext.privileged=true)',
      'allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false)',
      'unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"])',
      'restricted volume types (volume "host" uses restricted volume type "hostPath")',
      'runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true)',
      'seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    ]);
  });

  it('reports seLinux user and role, and unsafe sysctls in the order given', () => {
    const spec = {
      securityContext: {
        seLinuxOptions: { user: 'system_u', role: 'system_r' },
        sysctls: [
          { name: 'net.core.somaxconn', value: '1024' },
          { name: 'kernel.msgmax', value: '65536' },
        ],
      },
      containers: [{ name: 'my-pod', image: 'x' }],
    };
    expect(restrictedViolations(spec).slice(0, 2)).toEqual([
      'seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: user may not be set; role may not be set)',
      'forbidden sysctls (net.core.somaxconn, kernel.msgmax)',
    ]);
  });

  it('names several containers in one message, in the pod order', () => {
    const spec = {
      containers: [
        { name: 'openhands-app-2024', image: 'x' },
        { name: 'openhands-sandbox-2024', image: 'y' },
      ],
    };
    expect(restrictedViolations(spec)[0]).toBe(
      'allowPrivilegeEscalation != false (containers "openhands-app-2024", "openhands-sandbox-2024" must set securityContext.allowPrivilegeEscalation=false)',
    );
  });

  it('passes a compliant pod', () => {
    expect(restrictedViolations(compliant())).toEqual([]);
  });
});

describe('restrictedViolations, check by check', () => {
  it.each<[string, Spec, string[]]>([
    [
      'host namespaces',
      { ...compliant(), hostNetwork: true, hostPID: true, hostIPC: true },
      ['host namespaces (hostNetwork=true, hostPID=true, hostIPC=true)'],
    ],
    [
      'host ports, sorted as the admission sorts them',
      withContainer(compliant(), {
        ports: [
          { containerPort: 8080, hostPort: 8080 },
          { containerPort: 9, hostPort: 10000 },
        ],
      }),
      ['hostPort (container "app" uses hostPorts 10000, 8080)'],
    ],
    [
      'an added capability other than NET_BIND_SERVICE',
      withContainerSc(compliant(), {
        capabilities: { drop: ['ALL'], add: ['SYS_ADMIN', 'NET_BIND_SERVICE', 'CHOWN'] },
      }),
      [
        'unrestricted capabilities (container "app" must not include "CHOWN", "SYS_ADMIN" in securityContext.capabilities.add)',
      ],
    ],
    [
      'dropping some capabilities but not ALL',
      withContainerSc(compliant(), { capabilities: { drop: ['NET_RAW'] } }),
      [
        'unrestricted capabilities (container "app" must set securityContext.capabilities.drop=["ALL"])',
      ],
    ],
    [
      'runAsUser 0 on the pod and a container',
      withContainerSc(withPodSc(compliant(), { runAsUser: 0 }), { runAsUser: 0 }),
      ['runAsUser=0 (pod and container "app" must not set runAsUser=0)'],
    ],
    [
      'runAsNonRoot false on a container despite the pod',
      withContainerSc(compliant(), { runAsNonRoot: false }),
      ['runAsNonRoot != true (container "app" must not set securityContext.runAsNonRoot=false)'],
    ],
    [
      'seccomp Unconfined',
      withPodSc(compliant(), { seccompProfile: { type: 'Unconfined' } }),
      ['seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")'],
    ],
    [
      'allowPrivilegeEscalation true',
      withContainerSc(compliant(), { allowPrivilegeEscalation: true }),
      [
        'allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false)',
      ],
    ],
    [
      'several restricted volume types',
      {
        ...compliant(),
        volumes: [
          { name: 'n', nfs: { server: 's', path: '/' } },
          { name: 'ok', emptyDir: {} },
          { name: 'h', hostPath: { path: '/' } },
        ],
      },
      ['restricted volume types (volumes "n", "h" use restricted volume types "hostPath", "nfs")'],
    ],
    [
      'an unmasked /proc',
      withContainerSc(compliant(), { procMount: 'Unmasked' }),
      ['procMount (container "app" must not set securityContext.procMount to "Unmasked")'],
    ],
    [
      'a probe aimed at another host',
      withContainer(compliant(), {
        livenessProbe: { httpGet: { host: '10.0.0.1', path: '/', port: 80 } },
      }),
      ['probe or lifecycle host (container "app" uses probe or lifecycle host "10.0.0.1")'],
    ],
    [
      'a Windows host process',
      withPodSc(compliant(), { windowsOptions: { hostProcess: true } }),
      ['hostProcess (pod must not set securityContext.windowsOptions.hostProcess=true)'],
    ],
    [
      'AppArmor Unconfined set by field',
      withContainerSc(compliant(), { appArmorProfile: { type: 'Unconfined' } }),
      [
        'forbidden AppArmor profile (container "app" must not set AppArmor profile type to "Unconfined")',
      ],
    ],
  ])('catches %s', (_what, spec, expected) => {
    expect(restrictedViolations(spec)).toEqual(expected);
  });

  it('checks init and ephemeral containers too', () => {
    const spec = { ...compliant(), initContainers: [{ name: 'init', image: 'x' }] };
    expect(restrictedViolations(spec)).toEqual([
      'allowPrivilegeEscalation != false (container "init" must set securityContext.allowPrivilegeEscalation=false)',
      'unrestricted capabilities (container "init" must set securityContext.capabilities.drop=["ALL"])',
    ]);
    const ephemeral = { ...compliant(), ephemeralContainers: [{ name: 'debug', image: 'x' }] };
    expect(restrictedViolations(ephemeral)).toHaveLength(2);
  });

  it('reads AppArmor annotations from the pod metadata', () => {
    const metadata = {
      annotations: { 'container.apparmor.security.beta.kubernetes.io/app': 'unconfined' },
    };
    expect(restrictedViolations(compliant(), metadata)).toEqual([
      'forbidden AppArmor profile (annotation must not set AppArmor profile type to "container.apparmor.security.beta.kubernetes.io/app="unconfined"")',
    ]);
    const both = withPodSc(compliant(), { appArmorProfile: { type: 'Unconfined' } });
    expect(restrictedViolations(both, metadata)).toEqual([
      'forbidden AppArmor profiles (pod and annotation must not set AppArmor profile type to "Unconfined", "container.apparmor.security.beta.kubernetes.io/app="unconfined"")',
    ]);
    const fine = {
      annotations: { 'container.apparmor.security.beta.kubernetes.io/app': 'runtime/default' },
    };
    expect(restrictedViolations(compliant(), fine)).toEqual([]);
  });

  it.each<[string, Spec]>([
    [
      'NET_BIND_SERVICE added',
      withContainerSc(compliant(), { capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } }),
    ],
    [
      'seccomp Localhost',
      withPodSc(compliant(), { seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' } }),
    ],
    [
      'seccomp on the container only',
      withContainerSc(withPodSc(compliant(), { seccompProfile: undefined }), {
        seccompProfile: { type: 'RuntimeDefault' },
      }),
    ],
    [
      'runAsNonRoot on the container only',
      withContainerSc(withPodSc(compliant(), { runAsNonRoot: undefined }), { runAsNonRoot: true }),
    ],
    [
      'allowed volume types',
      {
        ...compliant(),
        volumes: [
          'configMap',
          'secret',
          'emptyDir',
          'projected',
          'downwardAPI',
          'persistentVolumeClaim',
          'csi',
          'ephemeral',
        ].map((t) => ({ name: t.toLowerCase(), [t]: {} })),
      },
    ],
    [
      'safe sysctls',
      withPodSc(compliant(), {
        sysctls: [{ name: 'net.ipv4.ip_local_port_range', value: '1024 65535' }],
      }),
    ],
    ['hostPort 0', withContainer(compliant(), { ports: [{ containerPort: 80, hostPort: 0 }] })],
    ['procMount Default', withContainerSc(compliant(), { procMount: 'Default' })],
    [
      'seLinux container_t',
      withPodSc(compliant(), { seLinuxOptions: { type: 'container_t', level: 's0:c1' } }),
    ],
  ])('allows %s', (_what, spec) => {
    expect(restrictedViolations(spec)).toEqual([]);
  });

  it('lets Windows pods skip the Linux-only checks', () => {
    const spec = {
      os: { name: 'windows' },
      securityContext: { runAsNonRoot: true },
      containers: [{ name: 'w', image: 'x' }],
    };
    expect(restrictedViolations(spec)).toEqual([]);
  });

  it('survives data that is not a pod spec', () => {
    expect(restrictedViolations(undefined)).toEqual([]);
    expect(restrictedViolations({ containers: 'nope', volumes: [null, 3] })).toEqual([]);
  });
});

describe('levels', () => {
  it('baseline ignores what only restricted asks for, and privileged asks nothing', () => {
    const bare = { containers: [{ name: 'app', image: 'x' }] };
    expect(baselineViolations(bare)).toEqual([]);
    expect(evaluatePodSecurity('privileged', { hostNetwork: true, containers: [] })).toEqual([]);
  });

  it('baseline reports non-default capabilities and hostPath volumes under their own names', () => {
    const spec = {
      containers: [
        {
          name: 'app',
          image: 'x',
          securityContext: { capabilities: { add: ['NET_ADMIN', 'CHOWN'] } },
        },
      ],
      volumes: [{ name: 'h', hostPath: { path: '/' } }],
    };
    expect(baselineViolations(spec)).toEqual([
      'non-default capabilities (container "app" must not include "NET_ADMIN" in securityContext.capabilities.add)',
      'hostPath volumes (volume "h")',
    ]);
  });

  it('restricted replaces the baseline checks it overrides instead of repeating them', () => {
    const spec = withPodSc(compliant(), { seccompProfile: { type: 'Unconfined' } });
    const reasons = evaluatePodSecurity('restricted', spec).map((v) => v.check);
    expect(reasons).toEqual(['seccompProfile_restricted']);
  });
});

describe('messages and labels', () => {
  it('words a refusal like the API server', () => {
    const violations = evaluatePodSecurity(
      'restricted',
      withContainerSc(compliant(), { privileged: true }),
    );
    expect(
      forbiddenPodMessage('web-1', { level: 'restricted', version: 'latest' }, violations),
    ).toBe(
      'pods "web-1" is forbidden: violates PodSecurity "restricted:latest": privileged (container "app" must not set securityContext.privileged=true)',
    );
    expect(podSecurityWarning({ level: 'restricted', version: 'v1.32' }, violations)).toBe(
      'would violate PodSecurity "restricted:v1.32": privileged (container "app" must not set securityContext.privileged=true)',
    );
  });

  it('reads the namespace labels, defaulting to privileged and falling back to restricted', () => {
    expect(
      podSecurityFromLabels({
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': 'v1.30',
        'pod-security.kubernetes.io/warn': 'baseline',
        'pod-security.kubernetes.io/audit': 'strict',
        'pod-security.kubernetes.io/audit-version': '1.30',
      }),
    ).toEqual({
      enforce: { level: 'restricted', version: 'v1.30' },
      warn: { level: 'baseline', version: 'latest' },
      audit: { level: 'restricted', version: 'latest' },
    });
    expect(podSecurityFromLabels(undefined).enforce).toEqual({
      level: 'privileged',
      version: 'latest',
    });
  });
});

describe('hardeningGaps', () => {
  it('asks for what restricted leaves optional', () => {
    expect(hardeningGaps(compliant())).toEqual([
      'spec.automountServiceAccountToken must be false',
      'spec.securityContext.runAsGroup must be a number above 0',
      'container "app": securityContext.runAsNonRoot must be true',
      'container "app": securityContext.readOnlyRootFilesystem must be true',
    ]);
  });
});
