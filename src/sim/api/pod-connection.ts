import type net from 'node:net';

/**
 * Where a forwarded connection goes, and where it comes from. A kubelet connects to the port
 * on localhost inside the pod's network namespace, so the server sees a peer from inside its
 * pod. The embedded cluster's pods share the machine's loopback, where a connection from
 * 127.0.0.1 could as well be the Service proxy's: it connects from the pod's own address,
 * the one address there that is the pod alone.
 */
export function fromInsidePod(podIp: string, port: number): net.TcpNetConnectOpts {
  return { host: podIp, port, localAddress: podIp };
}
