import http from 'node:http';
import net from 'node:net';
import type { Container, HttpGetAction, Probe } from '../controllers/types.js';

export interface ProbeResult {
  ok: boolean;
  /** Why it failed, worded like the real kubelet's probe output. */
  message: string;
}

/** A named port (`http`) resolved through the container's ports, as the kubelet does. */
export function resolvePort(port: number | string, container: Container): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

export function httpGet(
  action: HttpGetAction,
  container: Container,
  podIP: string,
  timeoutMs: number,
): Promise<ProbeResult> {
  const host = action.host || podIP;
  const port = resolvePort(action.port, container);
  const path = action.path ?? '/';
  const url = `${(action.scheme ?? 'HTTP').toLowerCase()}://${host}:${port ?? action.port}${path}`;
  if (port === undefined) {
    return Promise.resolve({ ok: false, message: `unknown port "${String(action.port)}"` });
  }
  if ((action.scheme ?? 'HTTP').toUpperCase() === 'HTTPS') {
    return Promise.resolve({
      ok: false,
      message: 'HTTPS probes are not supported by the embedded cluster',
    });
  }
  const headers: Record<string, string> = {
    'User-Agent': 'kube-probe/1.32',
    Accept: '*/*',
    Connection: 'close',
  };
  for (const h of action.httpHeaders ?? []) headers[h.name] = h.value;
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = http.request({ host, port, path, method: 'GET', headers, agent: false }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      done(
        code >= 200 && code < 400
          ? { ok: true, message: '' }
          : { ok: false, message: `HTTP probe failed with statuscode: ${code}` },
      );
    });
    const timer = setTimeout(() => {
      req.destroy();
      done({
        ok: false,
        message: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
      });
    }, timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'ECONNREFUSED'
          ? `dial tcp ${host}:${port}: connect: connection refused`
          : err.code === 'ECONNRESET'
            ? 'read: connection reset by peer'
            : err.message;
      done({ ok: false, message: `Get "${url}": ${why}` });
    });
    req.end();
  });
}

function tcpSocket(
  action: { port: number | string; host?: string },
  container: Container,
  podIP: string,
  timeoutMs: number,
): Promise<ProbeResult> {
  const host = action.host || podIP;
  const port = resolvePort(action.port, container);
  if (port === undefined)
    return Promise.resolve({ ok: false, message: `unknown port "${String(action.port)}"` });
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` });
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok: true, message: '' });
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve({ ok: false, message: `dial tcp ${host}:${port}: connect: connection refused` });
    });
  });
}

/** Run one probe once. exec and gRPC probes cannot run here: they count as passing (the kubelet says so in an event). */
export function runProbe(probe: Probe, container: Container, podIP: string): Promise<ProbeResult> {
  const timeoutMs = Math.max(1, probe.timeoutSeconds ?? 1) * 1000;
  if (probe.httpGet) return httpGet(probe.httpGet, container, podIP, timeoutMs);
  if (probe.tcpSocket) return tcpSocket(probe.tcpSocket, container, podIP, timeoutMs);
  return Promise.resolve({ ok: true, message: '' });
}

export function isSupportedProbe(probe: Probe): boolean {
  return probe.httpGet !== undefined || probe.tcpSocket !== undefined;
}
