import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendRequests } from '../src/cli/http/send-requests.js';

/** The port-forward path's request loop, against a plain loopback server. */

let server: http.Server;
let port: number;
let connections = 0;
let inFlight = 0;
let maxInFlight = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    setTimeout(() => {
      inFlight -= 1;
      const status = req.url === '/?n=3' ? 503 : 200;
      res.writeHead(status, { 'X-Pod-Name': 'web-server-deployment-abc-zzzzz' });
      res.end('ok');
    }, 5);
  });
  // Counted per accepted socket: client port numbers are reused too quickly to tell connections apart.
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('sendRequests', () => {
  it('sends N requests, each on a new connection, at most P at a time', async () => {
    connections = 0;
    maxInFlight = 0;
    const { records, errors } = await sendRequests(
      '127.0.0.1',
      port,
      { count: 30, parallel: 4 },
      new AbortController().signal,
    );
    expect(records).toHaveLength(30);
    expect(errors).toEqual([]);
    expect(connections).toBe(30);
    expect(maxInFlight).toBeLessThanOrEqual(4);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(records.filter((r) => r.status === 503)).toHaveLength(1);
    expect(records.every((r) => r.pod === 'web-server-deployment-abc-zzzzz')).toBe(true);
    expect(records.every((r) => r.seconds > 0)).toBe(true);
  });

  it('records a refused connection as status 0 with its reason', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const { records, errors } = await sendRequests(
      '127.0.0.1',
      deadPort,
      { count: 3, parallel: 1 },
      new AbortController().signal,
    );
    expect(records.map((r) => r.status)).toEqual([0, 0, 0]);
    expect(errors[0]?.count).toBe(3);
    expect(errors[0]?.message).toMatch(/ECONNREFUSED/);
  });

  it('stops on abort and returns the answered requests, none of them counted as failed', async () => {
    const abort = new AbortController();
    let done = 0;
    const sending = sendRequests(
      '127.0.0.1',
      port,
      { count: 100_000, parallel: 2 },
      abort.signal,
      (n) => {
        done = n;
        if (n >= 20) abort.abort();
      },
      0,
    );
    const result = await sending;
    expect(result.stopped).toBe(true);
    expect(done).toBeGreaterThanOrEqual(20);
    expect(result.records.length).toBeGreaterThanOrEqual(20);
    expect(result.records.length).toBeLessThan(100_000);
    // The server answers request 3 with 503; nothing else failed, the cut-off ones included.
    expect(result.records.filter((r) => r.status !== 200).map((r) => r.status)).toEqual([503]);
    expect(result.records.every((r) => r.pod !== undefined)).toBe(true);
    expect(result.errors).toEqual([]);
  });
});
