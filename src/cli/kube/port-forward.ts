import * as k8s from '@kubernetes/client-node';
import net from 'node:net';
import { Writable } from 'node:stream';

/**
 * A local TCP listener whose every connection is tunnelled to one pod's port through the API
 * server, like `kubectl port-forward`. client-node forwards one stream per websocket, so each
 * accepted connection gets its own websocket.
 */

export interface Tunnel {
  host: string;
  port: number;
  /** Error text the API sent on the error channel, if any. */
  errors(): string[];
  close(): Promise<void>;
}

export async function openTunnel(
  kc: k8s.KubeConfig,
  namespace: string,
  pod: string,
  podPort: number,
): Promise<Tunnel> {
  const forward = new k8s.PortForward(kc, true);
  const errors: string[] = [];
  const sockets = new Set<net.Socket>();
  const sockClosers = new Set<() => void>();

  const server = net.createServer((socket) => {
    sockets.add(socket);
    const errorSink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        const text = chunk.toString('utf8').trim();
        if (text !== '') errors.push(text);
        callback();
      },
    });
    let ws: { close(): void; on(event: 'close', listener: () => void): unknown } | undefined;
    const closeWs = () => ws?.close();
    sockClosers.add(closeWs);
    socket.on('close', () => {
      sockets.delete(socket);
      sockClosers.delete(closeWs);
      closeWs();
    });
    socket.on('error', () => socket.destroy());
    forward
      .portForward(namespace, pod, [podPort], socket, errorSink, socket)
      .then((opened) => {
        const socketWs = typeof opened === 'function' ? opened() : opened;
        if (!socketWs) {
          socket.destroy();
          return;
        }
        ws = socketWs;
        socketWs.on('close', () => socket.end());
        if (socket.destroyed) socketWs.close();
      })
      .catch((error: unknown) => {
        errors.push(error instanceof Error ? error.message : String(error));
        socket.destroy();
      });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address() as net.AddressInfo;

  return {
    host: '127.0.0.1',
    port: address.port,
    errors: () => [...errors],
    close: () =>
      new Promise<void>((resolve) => {
        for (const close of sockClosers) close();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
