import {
  containerName,
  containersPhrase,
  joinQuote,
  list,
  pluralize,
  rec,
  sc,
  settersPhrase,
  sortedSet,
  str,
  badSeccompSetters,
  procMount,
  type Check,
} from './view.js';

/** The `restricted` level's checks; some replace a baseline check (`overrides`). */

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

export const RESTRICTED_CHECKS: readonly Check[] = [
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
