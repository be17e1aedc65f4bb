import net from 'node:net';

/**
 * Who is on the other end of a connection, for the one route only the pod itself may call
 * (`POST /crash`). `kubectl port-forward` reaches a pod through the API server and the
 * kubelet, which connect to the port on localhost inside the pod's network namespace; other
 * pods and the Service arrive from pod addresses. So a loopback peer means "from inside this
 * pod", which, from outside it, only a port-forward can be.
 */

function familyOf(address: string): 'ipv4' | 'ipv6' | undefined {
  if (net.isIPv4(address)) return 'ipv4';
  if (net.isIPv6(address)) return 'ipv6';
  return undefined;
}

/** Whether `address` is in `list`; an IPv4 address mapped into IPv6 counts as the IPv4 one. */
function listed(list: net.BlockList, address: string): boolean {
  const family = familyOf(address);
  return family !== undefined && list.check(address, family);
}

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** 127.0.0.0/8, ::1, or an IPv4 loopback address mapped into IPv6 (`::ffff:127.0.0.1`). */
export function isLoopback(address: string): boolean {
  return listed(LOOPBACK, address);
}

/**
 * Whether a connection from `peer` comes from inside the pod whose address is `podIp`.
 * Where the pod's own address is itself a loopback one (the embedded cluster gives every pod
 * an address on the machine's one loopback, which its Service proxy and its other pods share),
 * loopback says nothing about where a connection came from: there only the pod's own address
 * counts, and the embedded cluster's port-forward connects from it.
 */
export function isFromInsidePod(peer: string | undefined, podIp: string): boolean {
  if (peer === undefined || familyOf(peer) === undefined) return false;
  const own = familyOf(podIp);
  if (own === undefined || !isLoopback(podIp)) return isLoopback(peer);
  const self = new net.BlockList();
  self.addAddress(podIp, own);
  return listed(self, peer);
}
