import net from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { KubeObject } from '../store.js';
import { failure, type Status } from './status.js';
import { createSpdyPortForward } from './spdy.js';
import { fromInsidePod } from './pod-connection.js';

/**
 * pods/portforward over a websocket with the channel protocol (`v4.channel.k8s.io`):
 * every message starts with a channel byte; for port i, channel 2i carries data and
 * channel 2i+1 errors. The first message on each channel is the port as a little-endian
 * uint16. Each websocket is one TCP connection to podIP:port, as through a kubelet.
 */

export type PodAddressLookup = (namespace: string, pod: string) => KubeObject | undefined;

const CHANNEL_PROTOCOLS = [
  'v4.channel.k8s.io',
  'v5.channel.k8s.io',
  'v3.channel.k8s.io',
  'v2.channel.k8s.io',
  'channel.k8s.io',
];

/** kubectl 1.31+: SPDY/3.1 carried in websocket binary messages. */
const SPDY_TUNNEL = 'SPDY/3.1+portforward.k8s.io';

const SPDY_NOTE =
  'the embedded cluster does not support port-forward over a plain SPDY upgrade; use kubectl 1.31 or newer (SPDY tunnelled in a websocket, the default) or a client that speaks v4.channel.k8s.io, such as @kubernetes/client-node PortForward';

/** The pod's address while it runs there; a tunnel lives only as long as that. */
interface PodTarget {
  namespace: string;
  podName: string;
  uid: string;
  podIp: string;
}

export function createPortForward(lookup: PodAddressLookup, log: (line: string) => void) {
  return new PortForward(lookup, log);
}

class PortForward {
  private readonly wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered: Set<string>) =>
      CHANNEL_PROTOCOLS.find((p) => offered.has(p)) ?? false,
  });
  // `ws` rejects the tunnel's subprotocol ('/' is not a token character), so the request's
  // offer is taken out before the handshake and the chosen protocol put back in the answer.
  private readonly spdyWss = new WebSocketServer({ noServer: true });

  constructor(
    private readonly lookup: PodAddressLookup,
    private readonly log: (line: string) => void,
  ) {
    this.spdyWss.on('headers', (headers: string[]) =>
      headers.push(`Sec-WebSocket-Protocol: ${SPDY_TUNNEL}`),
    );
  }

  handleUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    namespace: string,
    podName: string,
    query: URLSearchParams,
    reject: (status: Status) => void,
  ): void {
    const isWebsocket = (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
    const offered = (req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '');
    const tunnel = offered.includes(SPDY_TUNNEL);
    if (!isWebsocket || (!tunnel && !offered.some((p) => CHANNEL_PROTOCOLS.includes(p)))) {
      reject(failure(400, 'BadRequest', SPDY_NOTE));
      return;
    }
    const target = this.runningPod(namespace, podName, reject);
    if (!target) return;
    if (tunnel) {
      delete req.headers['sec-websocket-protocol'];
      this.spdyWss.handleUpgrade(req, socket, head, (ws) => this.spdyTunnel(ws, target));
      return;
    }
    const ports = portsOf(query);
    if (!ports) {
      reject(
        failure(
          400,
          'BadRequest',
          'query parameter "ports" is required: one or more port numbers between 1 and 65535',
        ),
      );
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.endWithPod(ws, target);
      this.channelTunnel(ws, target, ports);
    });
  }

  /** The pod and its address, or undefined once `reject` has answered why not. */
  private runningPod(
    namespace: string,
    podName: string,
    reject: (status: Status) => void,
  ): PodTarget | undefined {
    const pod = this.lookup(namespace, podName);
    if (!pod) {
      reject(
        failure(404, 'NotFound', `pods "${podName}" not found`, { name: podName, kind: 'pods' }),
      );
      return undefined;
    }
    const status = (pod.status ?? {}) as { podIP?: string; phase?: string };
    const podIp = status.podIP;
    if (status.phase !== 'Running' || !podIp) {
      reject(
        failure(
          400,
          'BadRequest',
          `unable to upgrade connection: pod ${podName} is not running (phase ${status.phase ?? 'Pending'})`,
        ),
      );
      return undefined;
    }
    return { namespace, podName, uid: pod.metadata.uid, podIp };
  }

  /**
   * A tunnel lives as long as its pod, as through a kubelet: when the pod is gone or no
   * longer running at that address, the websocket closes and the client sees the end.
   */
  private endWithPod(ws: WebSocket, target: PodTarget): void {
    const { namespace, podName } = target;
    const timer = setInterval(() => {
      const pod = this.lookup(namespace, podName);
      const status = (pod?.status ?? {}) as { podIP?: string; phase?: string };
      if (
        !pod ||
        pod.metadata.uid !== target.uid ||
        status.phase !== 'Running' ||
        status.podIP !== target.podIp
      ) {
        this.log(`portforward ${namespace}/${podName}: pod gone, closing the tunnel`);
        ws.close();
      }
    }, 250);
    ws.on('close', () => clearInterval(timer));
  }

  private spdyTunnel(ws: WebSocket, target: PodTarget): void {
    this.endWithPod(ws, target);
    const session = createSpdyPortForward(
      target.podIp,
      target.podName,
      (frame) => {
        if (ws.readyState === ws.OPEN) ws.send(frame);
      },
      () => ws.close(),
      this.log,
    );
    ws.on('message', (data: Buffer) => session.receive(data));
    ws.on('close', () => session.close());
    ws.on('error', () => session.close());
  }

  /** The channel protocol: one TCP connection per requested port, over one websocket. */
  private channelTunnel(ws: WebSocket, target: PodTarget, ports: number[]): void {
    const { podIp, podName } = target;
    const sockets = ports.map((port, i) => {
      ws.send(portHeader(port, 2 * i));
      ws.send(portHeader(port, 2 * i + 1));
      const tcp = net.connect(fromInsidePod(podIp, port));
      tcp.on('data', (data: Buffer) => {
        if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([2 * i]), data]));
      });
      tcp.on('error', (error) => {
        this.log(`portforward ${podName}:${port}: ${error.message}`);
        if (ws.readyState === ws.OPEN)
          ws.send(
            Buffer.concat([
              Buffer.from([2 * i + 1]),
              Buffer.from(`error forwarding port ${port} to pod ${podName}: ${error.message}`),
            ]),
          );
        ws.close();
      });
      tcp.on('close', () => ws.close());
      return tcp;
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const buf = isBinary ? data : Buffer.from(data);
      if (buf.length === 0) return;
      const channel = buf[0] ?? 0;
      if (channel === 255) return; // v5 close signal: the peer is done writing
      const tcp = sockets[channel / 2];
      if (channel % 2 === 0 && tcp && buf.length > 1) tcp.write(buf.subarray(1));
    });
    ws.on('close', () => {
      for (const s of sockets) s.end();
    });
    ws.on('error', () => {
      for (const s of sockets) s.destroy();
    });
  }
}

/** The `ports` query parameter (repeated or comma-separated), or undefined when unusable. */
function portsOf(query: URLSearchParams): number[] | undefined {
  const ports = query
    .getAll('ports')
    .flatMap((p) => p.split(','))
    .map((p) => Number(p.trim()));
  if (ports.length === 0 || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535))
    return undefined;
  return ports;
}

/** The first message of a channel: the channel byte, then the port as a little-endian uint16. */
function portHeader(port: number, channel: number): Buffer {
  const b = Buffer.alloc(3);
  b.writeUInt8(channel, 0);
  b.writeUInt16LE(port, 1);
  return b;
}
