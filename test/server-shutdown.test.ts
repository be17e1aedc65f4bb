/**
 * The server process as Kubernetes drives it: started with env, stopped with SIGTERM while
 * a request is still being worked on. Raw sockets make the connection states exact.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { firstExternalIpv4 } from '../src/server/identity.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const mainSource = fileURLToPath(new URL('../src/server/main.ts', import.meta.url));

interface ServerProcess {
  child: ChildProcessWithoutNullStreams;
  port: number;
  stderr: () => string;
  stdout: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

async function startServer(env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', mainSource], {
    cwd: root,
    env: {
      ...process.env,
      POD_NAME: 'web-server-deployment-6d4cf56db6-drain',
      HOST: '127.0.0.1',
      PORT: '0',
      ...env,
    },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>(
    (resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 20_000);
    const onData = () => {
      const match = /Listening on port (\d+)/.exec(stderr);
      if (match?.[1] === undefined) return;
      clearTimeout(timer);
      child.stderr.off('data', onData);
      resolve(Number(match[1]));
    };
    child.stderr.on('data', onData);
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${stderr}`));
    });
  });
  return { child, port, stderr: () => stderr, stdout: () => stdout, exited };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One HTTP/1.1 connection we drive by hand, so we choose when it is idle or mid-request. */
class Connection {
  private buffer = Buffer.alloc(0);
  readonly closed: Promise<number>;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => (this.buffer = Buffer.concat([this.buffer, chunk])));
    this.closed = new Promise((resolve) => socket.once('close', () => resolve(performance.now())));
    socket.on('error', () => undefined);
  }

  static async open(port: number, host = '127.0.0.1', localAddress?: string): Promise<Connection> {
    const socket = connect({ port, host, ...(localAddress ? { localAddress } : {}) });
    await once(socket, 'connect');
    return new Connection(socket);
  }

  send(text: string): void {
    this.socket.write(text);
  }

  get isClosed(): boolean {
    return this.socket.destroyed || this.socket.readableEnded;
  }

  async response(timeoutMs = 5_000): Promise<RawResponse> {
    let parsed: RawResponse | undefined;
    await waitFor(
      () => {
        const headEnd = this.buffer.indexOf('\r\n\r\n');
        if (headEnd === -1) return this.isClosed;
        const [statusLine = '', ...headerLines] = this.buffer
          .subarray(0, headEnd)
          .toString('latin1')
          .split('\r\n');
        const headers: Record<string, string> = {};
        for (const line of headerLines) {
          const colon = line.indexOf(':');
          headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
        }
        const length = Number(headers['content-length'] ?? 0);
        if (this.buffer.length < headEnd + 4 + length) return this.isClosed;
        parsed = {
          status: Number(statusLine.split(' ')[1]),
          headers,
          body: this.buffer.subarray(headEnd + 4, headEnd + 4 + length).toString('utf8'),
        };
        this.buffer = this.buffer.subarray(headEnd + 4 + length);
        return true;
      },
      'a response',
      timeoutMs,
    );
    if (parsed === undefined) throw new Error('connection closed before a full response');
    return parsed;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

const request = (path: string) => `GET ${path} HTTP/1.1\r\nHost: replica\r\n\r\n`;
const crashRequest = 'POST /crash HTTP/1.1\r\nHost: replica\r\nContent-Length: 0\r\n\r\n';

describe('server process shutdown', () => {
  it('on SIGTERM fails readiness, closes idle connections, finishes in-flight work, exits 0', async () => {
    const server = await startServer();
    const connections: Connection[] = [];
    try {
      const idle = await Connection.open(server.port);
      connections.push(idle);
      idle.send(request('/health'));
      const first = await idle.response();
      expect(first.status).toBe(200);
      expect(first.headers.connection).toBe('keep-alive');
      expect(first.headers['keep-alive']).toBe('timeout=5');
      // Two requests in one packet: their log lines leave in one write, still one line each.
      idle.send(request('/') + request('/?n=2'));
      expect((await idle.response()).status).toBe(200);
      expect((await idle.response()).status).toBe(200);

      // Headers begun but not finished: the connection is busy, not idle, when SIGTERM lands.
      const probe = await Connection.open(server.port);
      connections.push(probe);
      probe.send('GET /ready HTTP/1.1\r\nHost: replica\r\n');

      const work = await Connection.open(server.port);
      connections.push(work);
      work.send(request('/load?ms=500'));
      const workResponse = work.response(10_000);
      await new Promise((resolve) => setTimeout(resolve, 100));

      server.child.kill('SIGTERM');
      await waitFor(() => server.stderr().includes('SIGTERM received'), 'the drain to begin');

      const idleClosedAt = await idle.closed;
      probe.send('\r\n');
      const ready = await probe.response();
      expect(ready.status).toBe(503);
      expect(JSON.parse(ready.body)).toEqual({ status: 'draining' });
      expect(ready.headers.connection).toBe('close');

      // The listener is gone: new connections are refused.
      await expect(Connection.open(server.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });

      const loaded = await workResponse;
      const loadedAt = performance.now();
      expect(loaded.status).toBe(200);
      expect(loaded.headers.connection).toBe('close');
      expect(JSON.parse(loaded.body)).toMatchObject({ requested_ms: 500, mode: 'wait' });
      expect(idleClosedAt).toBeLessThan(loadedAt);

      const exit = await server.exited;
      expect(exit).toMatchObject({ code: 0, signal: null });
      expect(exit.at).toBeGreaterThanOrEqual(loadedAt - 50);
      // `/`, `/?n=2` and `/load`; the probes stay out of the log.
      const line =
        /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] Request received by web-server-deployment-6d4cf56db6-drain \(Replica drain\)$/;
      const lines = server.stdout().split('\n');
      expect(lines.pop()).toBe('');
      expect(lines).toHaveLength(3);
      for (const logged of lines) expect(logged).toMatch(line);
    } finally {
      for (const connection of connections) connection.destroy();
      server.child.kill('SIGKILL');
    }
  });

  it('cuts work that outlives SHUTDOWN_TIMEOUT_MS and still exits 0', async () => {
    const server = await startServer({ SHUTDOWN_TIMEOUT_MS: '300' });
    const work = await Connection.open(server.port);
    try {
      work.send(request('/load?ms=20000'));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const signalledAt = performance.now();
      server.child.kill('SIGTERM');
      const exit = await server.exited;
      expect(exit).toMatchObject({ code: 0, signal: null });
      expect(exit.at - signalledAt).toBeLessThan(3_000);
      expect(exit.at - signalledAt).toBeGreaterThanOrEqual(250);
      await work.closed;
      expect(server.stderr()).toContain('Requests still running after 300 ms');
    } finally {
      work.destroy();
      server.child.kill('SIGKILL');
    }
  });

  it('logs probes when LOG_PROBES=1, and stops at once on SIGINT when nothing is in flight', async () => {
    const server = await startServer({ LOG_PROBES: '1' });
    const probe = await Connection.open(server.port);
    try {
      probe.send(request('/health'));
      expect((await probe.response()).status).toBe(200);
      await waitFor(() => server.stdout().includes('\n'), 'the probe log line');
      expect(server.stdout()).toMatch(
        /^\[[^\]]+\] Request received by web-server-deployment-6d4cf56db6-drain \(Replica drain\)\n$/,
      );
      const signalledAt = performance.now();
      server.child.kill('SIGINT');
      const exit = await server.exited;
      expect(exit).toMatchObject({ code: 0, signal: null });
      expect(exit.at - signalledAt).toBeLessThan(1_000);
    } finally {
      probe.destroy();
      server.child.kill('SIGKILL');
    }
  });

  it('refuses a bad PORT with one line naming it, and exit code 1', async () => {
    await expect(startServer({ PORT: 'eighty' })).rejects.toThrow(
      /exited with 1: \[[^\]]+\] Cannot start: PORT must be a whole number from 0 to 65535, got 'eighty'\n$/,
    );
  });
});

describe('server process crash (POST /crash)', () => {
  it('from inside the pod answers 202, then exits 1 at once, cutting work in flight, and says why', async () => {
    const server = await startServer({ POD_IP: '10.244.1.7' });
    const work = await Connection.open(server.port);
    const crash = await Connection.open(server.port);
    try {
      work.send(request('/load?ms=20000'));
      await waitFor(() => server.stdout().includes('\n'), 'the load request line');
      const sentAt = performance.now();
      crash.send(crashRequest);
      const answer = await crash.response();
      expect(answer.status).toBe(202);
      expect(JSON.parse(answer.body)).toMatchObject({ status: 'crashing', exit_code: 1 });
      const exit = await server.exited;
      expect(exit).toMatchObject({ code: 1, signal: null });
      // No drain: the 20 s of work in flight is cut, unanswered, long before its end.
      expect(exit.at - sentAt).toBeLessThan(5_000);
      await work.closed;
      await expect(work.response(100)).rejects.toThrow('connection closed before a full response');
      expect(server.stderr()).toMatch(
        /\] POST \/crash from (::ffff:)?127\.0\.0\.1: exiting with code 1 at once, draining nothing, as a crashed process would\n$/,
      );
      expect(server.stderr()).not.toContain('finishing requests in flight');
    } finally {
      work.destroy();
      crash.destroy();
      server.child.kill('SIGKILL');
    }
  });

  const external = firstExternalIpv4();
  it.skipIf(external === '127.0.0.1')(
    "refuses a peer from another address with 403 and keeps serving, as a pod's would be refused",
    async () => {
      // Listening on every address, as in a pod; the machine's own external address stands in
      // for another pod's.
      const server = await startServer({ HOST: '0.0.0.0', POD_IP: '10.244.1.7' });
      const outside = await Connection.open(server.port, external);
      try {
        outside.send(crashRequest);
        const refused = await outside.response();
        expect(refused.status).toBe(403);
        expect(JSON.parse(refused.body)).toEqual({
          error: `POST /crash is accepted only from inside the pod (through kubectl port-forward), not from ${external}`,
        });
        outside.send(request('/'));
        expect((await outside.response()).status).toBe(200);
        expect(server.child.exitCode).toBeNull();
        expect(server.stderr()).not.toContain('POST /crash from');
      } finally {
        outside.destroy();
        server.child.kill('SIGKILL');
      }
    },
  );

  it("on the embedded cluster's loopback pod address, refuses 127.0.0.1 and accepts only the pod's own address", async () => {
    const podIp = '127.77.0.9';
    const server = await startServer({ HOST: podIp, POD_IP: podIp });
    const proxy = await Connection.open(server.port, podIp);
    const forward = await Connection.open(server.port, podIp, podIp);
    try {
      proxy.send(crashRequest);
      expect((await proxy.response()).status).toBe(403);
      forward.send(crashRequest);
      expect((await forward.response()).status).toBe(202);
      expect(await server.exited).toMatchObject({ code: 1 });
      expect(server.stderr()).toContain(`POST /crash from ${podIp}: exiting with code 1`);
    } finally {
      proxy.destroy();
      forward.destroy();
      server.child.kill('SIGKILL');
    }
  });
});
