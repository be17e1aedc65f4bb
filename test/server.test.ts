import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, createReplica, type AppOptions, type Clock } from '../src/server/app.js';
import type { Identity } from '../src/server/identity.js';
import { Lifecycle } from '../src/server/lifecycle.js';
import { LOAD_MAX_MS, parseLoadQuery } from '../src/server/load.js';

const identity: Identity = {
  podName: 'web-server-deployment-6d4cf56db6-aaaaa',
  podIp: '10.244.1.7',
  nodeName: 'replica-demo-worker',
  namespace: 'multi-replica-web',
  hostname: 'web-server-deployment-6d4cf56db6-aaaaa',
  replicaId: 'aaaaa',
};
const NOW = Date.parse('2026-03-04T05:06:07.089Z');
const fixedClock: Clock = () => NOW;
const LOG_LINE =
  '[2026-03-04T05:06:07.089Z] Request received by web-server-deployment-6d4cf56db6-aaaaa (Replica aaaaa)\n';

interface Running {
  base: string;
  lines: string[];
  errors: string[];
  lifecycle: Lifecycle;
  close: () => Promise<void>;
}

async function start(clock: Clock = fixedClock, options: AppOptions = {}): Promise<Running> {
  const lines: string[] = [];
  const errors: string[] = [];
  const lifecycle = options.lifecycle ?? new Lifecycle();
  const app = createApp(identity, clock, {
    log: (line) => lines.push(line),
    logError: (line) => errors.push(line),
    startedAt: NOW - 1500,
    appVersion: '9.8.7',
    ...options,
    lifecycle,
  });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    lines,
    errors,
    lifecycle,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('GET /', () => {
  let server: Running;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(() => server.close());

  it('answers with exactly the lesson keys, in order, and the identity headers', async () => {
    const response = await fetch(`${server.base}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const text = await response.text();
    const body = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual([
      'message',
      'pod_name',
      'pod_ip',
      'node_name',
      'hostname',
      'replica_id',
      'timestamp',
    ]);
    expect(body).toEqual({
      message: 'Hello from Replica aaaaa!',
      pod_name: 'web-server-deployment-6d4cf56db6-aaaaa',
      pod_ip: '10.244.1.7',
      node_name: 'replica-demo-worker',
      hostname: 'web-server-deployment-6d4cf56db6-aaaaa',
      replica_id: 'aaaaa',
      timestamp: '2026-03-04T05:06:07.089Z',
    });
    expect(response.headers.get('x-pod-name')).toBe(identity.podName);
    expect(response.headers.get('x-replica-id')).toBe('aaaaa');
    expect(response.headers.get('x-node-name')).toBe('replica-demo-worker');
    expect(response.headers.get('x-pod-ip')).toBe('10.244.1.7');
    expect(response.headers.get('x-powered-by')).toBeNull();
    expect(response.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
  });

  it('answers the same with a query string, as the blast numbers its requests', async () => {
    const plain = await (await fetch(`${server.base}/`)).text();
    const numbered = await fetch(`${server.base}/?n=7`);
    expect(numbered.status).toBe(200);
    expect(await numbered.text()).toBe(plain);
  });

  it('answers HEAD with the headers and no body', async () => {
    const response = await fetch(`${server.base}/`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-replica-id')).toBe('aaaaa');
    expect(await response.text()).toBe('');
  });

  it('writes one exact log line per request', async () => {
    const before = server.lines.length;
    await (await fetch(`${server.base}/`)).text();
    await (await fetch(`${server.base}/?n=2`)).text();
    expect(server.lines.slice(before)).toEqual([LOG_LINE, LOG_LINE]);
  });

  it('answers other methods on / with 404 JSON', async () => {
    const response = await fetch(`${server.base}/`, { method: 'POST' });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: 'Not found: POST /' });
  });
});

describe('GET /info', () => {
  it('adds namespace, start, uptime, count, versions, pid and memory to the / keys', async () => {
    const server = await start();
    try {
      await (await fetch(`${server.base}/`)).text();
      await (await fetch(`${server.base}/health`)).text();
      const response = await fetch(`${server.base}/info`);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-pod-name')).toBe(identity.podName);
      const body = (await response.json()) as Record<string, unknown>;
      expect(body).toMatchObject({
        message: 'Hello from Replica aaaaa!',
        pod_name: identity.podName,
        pod_ip: identity.podIp,
        node_name: identity.nodeName,
        hostname: identity.hostname,
        replica_id: 'aaaaa',
        timestamp: '2026-03-04T05:06:07.089Z',
        namespace: 'multi-replica-web',
        started_at: '2026-03-04T05:06:05.589Z',
        uptime_seconds: 1.5,
        // `/` and this request; probes are not requests served to users.
        requests_served: 2,
        app_version: '9.8.7',
        node_version: process.version,
        pid: process.pid,
      });
      const memory = body.memory as Record<string, number>;
      expect(memory.rss_bytes).toBeGreaterThan(1_000_000);
      expect(memory.heap_used_bytes).toBeGreaterThan(0);
      expect(memory.heap_total_bytes).toBeGreaterThanOrEqual(memory.heap_used_bytes ?? 0);
      expect(server.lines).toEqual([LOG_LINE, LOG_LINE]);
    } finally {
      await server.close();
    }
  });
});

describe('probes', () => {
  it('answer /health and /ready with 200 and stay out of the log', async () => {
    const server = await start();
    try {
      const health = await fetch(`${server.base}/health`);
      const ready = await fetch(`${server.base}/ready`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready' });
      expect(server.lines).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('are logged when asked for', async () => {
    const server = await start(fixedClock, { logProbes: true });
    try {
      await (await fetch(`${server.base}/health`)).text();
      await (await fetch(`${server.base}/ready`)).text();
      expect(server.lines).toEqual([LOG_LINE, LOG_LINE]);
    } finally {
      await server.close();
    }
  });

  it('fail readiness once draining, keep liveness, and close every connection', async () => {
    const server = await start();
    try {
      server.lifecycle.drain();
      const ready = await fetch(`${server.base}/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ status: 'draining' });
      expect(ready.headers.get('connection')).toBe('close');
      const health = await fetch(`${server.base}/health`);
      expect(health.status).toBe(200);
      expect(health.headers.get('connection')).toBe('close');
      const root = await fetch(`${server.base}/`);
      expect(root.status).toBe(200);
      expect(root.headers.get('connection')).toBe('close');
    } finally {
      await server.close();
    }
  });
});

describe('GET /load', () => {
  let server: Running;
  beforeAll(async () => {
    server = await start(Date.now);
  });
  afterAll(() => server.close());

  it('waits the default 1000 ms when no ms is given', async () => {
    const started = performance.now();
    const response = await fetch(`${server.base}/load`);
    const elapsed = performance.now() - started;
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ mode: 'wait', requested_ms: 1000, replica_id: 'aaaaa' });
    expect(body.elapsed_ms).toBeGreaterThanOrEqual(999);
    expect(elapsed).toBeGreaterThanOrEqual(995);
  });

  it('keeps answering other requests while it waits', async () => {
    const load = fetch(`${server.base}/load?ms=400`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    const root = await fetch(`${server.base}/`);
    const rootMs = performance.now() - started;
    expect(root.status).toBe(200);
    expect(rootMs).toBeLessThan(300);
    const response = await load;
    expect(await response.json()).toMatchObject({ mode: 'wait', requested_ms: 400 });
  });

  it('burns CPU for the time with cpu=1, still letting probes in', async () => {
    const cpuBefore = process.cpuUsage();
    const load = fetch(`${server.base}/load?ms=400&cpu=1`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    const health = await fetch(`${server.base}/health`);
    const healthMs = performance.now() - started;
    expect(health.status).toBe(200);
    expect(healthMs).toBeLessThan(250);
    const body = (await (await load).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ mode: 'cpu', requested_ms: 400 });
    expect(body.elapsed_ms).toBeGreaterThanOrEqual(400);
    // The app runs in this process, so its burn shows in our own CPU time. A timer wait
    // would show a few milliseconds; the bar is low because a busy machine shares the CPU.
    const cpu = process.cpuUsage(cpuBefore);
    expect((cpu.user + cpu.system) / 1000).toBeGreaterThan(100);
  });

  it('answers ms=0 at once and logs each load request', async () => {
    const before = server.lines.length;
    const response = await fetch(`${server.base}/load?ms=0`);
    expect(await response.json()).toMatchObject({ requested_ms: 0, elapsed_ms: 0 });
    expect(server.lines.slice(before)).toHaveLength(1);
    expect(server.lines.at(-1)).toMatch(
      /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] Request received by web-server-deployment-6d4cf56db6-aaaaa \(Replica aaaaa\)\n$/,
    );
  });

  it.each([
    ['ms=abc', 'ms'],
    ['ms=-1', 'ms'],
    ['ms=1.5', 'ms'],
    ['ms=', 'ms'],
    [`ms=${LOAD_MAX_MS + 1}`, 'ms'],
    ['ms=10&ms=20', 'ms'],
    ['cpu=2', 'cpu'],
    ['ms=10&cpu=yes', 'cpu'],
  ])('rejects %s with 400 naming %s, and logs nothing', async (query, parameter) => {
    const before = server.lines.length;
    const response = await fetch(`${server.base}/load?${query}`);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; parameter: string };
    expect(body.parameter).toBe(parameter);
    expect(body.error).toContain(`'${parameter}'`);
    expect(server.lines.length).toBe(before);
  });

  it('accepts the bounds of ms and the spellings of cpu', () => {
    expect(parseLoadQuery({ ms: String(LOAD_MAX_MS) })).toEqual({
      ok: true,
      value: { ms: LOAD_MAX_MS, cpu: false },
    });
    expect(parseLoadQuery({})).toEqual({ ok: true, value: { ms: 1000, cpu: false } });
    expect(parseLoadQuery({ ms: '0', cpu: 'true' })).toEqual({
      ok: true,
      value: { ms: 0, cpu: true },
    });
    expect(parseLoadQuery({ cpu: 'false' })).toEqual({ ok: true, value: { ms: 1000, cpu: false } });
  });
});

describe('identity headers', () => {
  it('replace what a header cannot carry, while the body keeps the name as it is', async () => {
    const lines: string[] = [];
    const app = createApp({ ...identity, nodeName: 'nœud-1' }, fixedClock, {
      log: (line) => lines.push(line),
    });
    const server: Server = await new Promise((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/`);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-node-name')).toBe('n?ud-1');
      expect(((await response.json()) as { node_name: string }).node_name).toBe('nœud-1');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('errors', () => {
  it('answers an unknown path with 404 JSON that lists the endpoints, unlogged', async () => {
    const server = await start();
    try {
      const response = await fetch(`${server.base}/nope`);
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(response.headers.get('x-powered-by')).toBeNull();
      expect(await response.json()).toEqual({
        error: 'Not found: GET /nope',
        endpoints: ['/', '/info', '/health', '/ready', '/load'],
      });
      expect(server.lines).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('answers a failure with 500 JSON and keeps the stack out of the response', async () => {
    const broken: Clock = () => {
      throw new Error('clock is broken');
    };
    const server = await start(broken, { startedAt: NOW });
    try {
      for (const path of ['/', '/info']) {
        const response = await fetch(`${server.base}${path}`);
        expect(response.status).toBe(500);
        expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
        const text = await response.text();
        expect(JSON.parse(text)).toEqual({ error: 'Internal server error' });
        expect(text).not.toContain('clock is broken');
      }
      expect(server.errors).toHaveLength(2);
      expect(server.errors[0]).toContain('Error handling GET /: Error: clock is broken');
      expect(server.errors[1]).toContain('at ');
    } finally {
      await server.close();
    }
  });
});

describe('the request listener main.ts serves', () => {
  let base: string;
  let app: Running;
  const lines: string[] = [];
  let server: Server;
  beforeAll(async () => {
    app = await start();
    const replica = createReplica(identity, fixedClock, {
      log: (line) => lines.push(line),
      startedAt: NOW - 1500,
      appVersion: '9.8.7',
    });
    server = http.createServer(replica.listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('answers GET / exactly as the app route does, and logs it', async () => {
    lines.length = 0;
    const [fast, routed] = await Promise.all([fetch(`${base}/?n=1`), fetch(`${app.base}/?n=1`)]);
    expect(await fast.text()).toBe(await routed.text());
    for (const header of [
      'content-type',
      'x-pod-name',
      'x-replica-id',
      'x-node-name',
      'x-pod-ip',
    ]) {
      expect(fast.headers.get(header)).toBe(routed.headers.get(header));
    }
    expect(lines).toEqual([LOG_LINE]);
  });

  it('answers HEAD / without logging it', async () => {
    lines.length = 0;
    const response = await fetch(`${base}/`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-pod-name')).toBe(identity.podName);
    expect(lines).toEqual([]);
  });

  it('hands other paths, and the absolute form of /, to the app', async () => {
    const info = await fetch(`${base}/info`);
    expect(((await info.json()) as { app_version: string }).app_version).toBe('9.8.7');
    const absolute = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const port = Number(new URL(base).port);
      const req = http.request(
        { host: '127.0.0.1', port, path: `${base}/`, method: 'GET' },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(absolute.status).toBe(200);
    expect((JSON.parse(absolute.body) as { pod_name: string }).pod_name).toBe(identity.podName);
  });
});

describe('POST /crash', () => {
  /** One POST /crash from `localAddress` to the app serving `who` on `host`. */
  async function crashFrom(
    who: Identity,
    host: string,
    localAddress: string | undefined,
    crash: ((peer: string) => void) | undefined,
  ): Promise<{ status: number; body: Record<string, unknown>; lines: string[] }> {
    const lines: string[] = [];
    const app = createApp(who, fixedClock, {
      log: (line) => lines.push(line),
      ...(crash ? { crash } : {}),
    });
    const server: Server = await new Promise((resolve) => {
      const listening = app.listen(0, host, () => resolve(listening));
    });
    const { port } = server.address() as AddressInfo;
    try {
      const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = http.request(
          { host, port, path: '/crash', method: 'POST', agent: false, localAddress },
          (res) => {
            let text = '';
            res.on('data', (chunk: Buffer) => (text += chunk.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          },
        );
        req.on('error', reject);
        req.end();
      });
      return {
        status: answer.status,
        body: JSON.parse(answer.text) as Record<string, unknown>,
        lines,
      };
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  it('answers 202 from inside the pod (loopback), then crashes, with the peer, once', async () => {
    const peers: string[] = [];
    const answer = await crashFrom(identity, '127.0.0.1', undefined, (peer) => peers.push(peer));
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({
      status: 'crashing',
      pod_name: identity.podName,
      replica_id: 'aaaaa',
      exit_code: 1,
      timestamp: '2026-03-04T05:06:07.089Z',
    });
    expect(peers).toEqual(['127.0.0.1']);
    // Not a request of the lesson: it stays out of the request log.
    expect(answer.lines).toEqual([]);
  });

  it('refuses a peer that is not the pod itself with 403 and does not crash', async () => {
    // The embedded cluster's shape, the one where a refused peer can be made on this machine:
    // the pod's address is a loopback one, and a connection from elsewhere on the loopback
    // (the Service proxy, other pods) is not from inside it.
    const simPod: Identity = { ...identity, podIp: '127.77.0.2' };
    const peers: string[] = [];
    const refused = await crashFrom(simPod, '127.77.0.2', '127.0.0.1', (p) => peers.push(p));
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe(
      'POST /crash is accepted only from inside the pod (through kubectl port-forward), not from 127.0.0.1',
    );
    expect(peers).toEqual([]);
    const own = await crashFrom(simPod, '127.77.0.2', '127.77.0.2', (p) => peers.push(p));
    expect(own.status).toBe(202);
    expect(peers).toEqual(['127.77.0.2']);
  });

  it('is not served without a way to crash, nor on GET', async () => {
    const unserved = await crashFrom(identity, '127.0.0.1', undefined, undefined);
    expect(unserved.status).toBe(404);
    const server = await start(fixedClock, { crash: () => expect.fail('crashed on GET') });
    try {
      expect((await fetch(`${server.base}/crash`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
