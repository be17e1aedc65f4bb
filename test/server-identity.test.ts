import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { firstExternalIpv4, replicaIdOf, resolveIdentity } from '../src/server/identity.js';

const loopback: NetworkInterfaceInfo = {
  address: '127.0.0.1',
  netmask: '255.0.0.0',
  family: 'IPv4',
  mac: '00:00:00:00:00:00',
  internal: true,
  cidr: '127.0.0.1/8',
};
const ipv6: NetworkInterfaceInfo = {
  address: 'fe80::1',
  netmask: 'ffff:ffff:ffff:ffff::',
  family: 'IPv6',
  mac: '02:42:ac:11:00:02',
  internal: false,
  cidr: 'fe80::1/64',
  scopeid: 2,
};
const ethernet: NetworkInterfaceInfo = {
  address: '172.17.0.2',
  netmask: '255.255.0.0',
  family: 'IPv4',
  mac: '02:42:ac:11:00:02',
  internal: false,
  cidr: '172.17.0.2/16',
};

describe('replicaIdOf', () => {
  it.each([
    ['web-server-deployment-6d4cf56db6-aaaaa', 'aaaaa'],
    ['web-server-deployment-abc12-xyz9k', 'xyz9k'],
    ['laptop', 'laptop'],
    ['trailing-dash-', 'dash'],
  ])('%s -> %s', (podName, id) => {
    expect(replicaIdOf(podName)).toBe(id);
  });
});

describe('resolveIdentity', () => {
  it('takes the pod identity from the downward-API env', () => {
    expect(
      resolveIdentity({
        env: {
          POD_NAME: 'web-server-deployment-6d4cf56db6-k8x2p',
          POD_IP: '10.244.2.9',
          NODE_NAME: 'kind-worker2',
          POD_NAMESPACE: 'multi-replica-web',
        },
        hostname: 'web-server-deployment-6d4cf56db6-k8x2p',
        interfaces: { eth0: [ethernet] },
      }),
    ).toEqual({
      podName: 'web-server-deployment-6d4cf56db6-k8x2p',
      podIp: '10.244.2.9',
      nodeName: 'kind-worker2',
      namespace: 'multi-replica-web',
      hostname: 'web-server-deployment-6d4cf56db6-k8x2p',
      replicaId: 'k8x2p',
    });
  });

  it('falls back to the hostname and the first external IPv4 outside Kubernetes', () => {
    expect(
      resolveIdentity({
        env: { POD_NAME: '  ', NODE_NAME: '' },
        hostname: 'dev-box-7',
        interfaces: { lo: [loopback], eth0: [ipv6, ethernet] },
      }),
    ).toEqual({
      podName: 'dev-box-7',
      podIp: '172.17.0.2',
      nodeName: 'dev-box-7',
      namespace: null,
      hostname: 'dev-box-7',
      replicaId: '7',
    });
  });

  it("takes the hostname the container runtime sets in HOSTNAME before the kernel's", () => {
    const identity = resolveIdentity({
      env: { HOSTNAME: 'web-server-deployment-6d4cf56db6-k8x2p' },
      hostname: 'dev-box-7',
      interfaces: { eth0: [ethernet] },
    });
    expect(identity.hostname).toBe('web-server-deployment-6d4cf56db6-k8x2p');
    expect(identity.podName).toBe('web-server-deployment-6d4cf56db6-k8x2p');
  });

  it('reports loopback when the machine has no external IPv4', () => {
    expect(firstExternalIpv4({ lo: [loopback], eth0: [ipv6] })).toBe('127.0.0.1');
  });
});
