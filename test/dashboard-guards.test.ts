import { readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from '../src/cli/context.js';
import type { KubeApi } from '../src/cli/kube/api.js';
import { Actions } from '../src/cli/dashboard/actions.js';
import { createDashboardApp } from '../src/cli/dashboard/app.js';
import { Hub } from '../src/cli/dashboard/hub.js';
import { blastRequest, killRequest, scaleRequest } from '../src/cli/dashboard/requests.js';
import { hostAllowed, sameOrigin, tokenMatches } from '../src/cli/dashboard/security.js';
import { browserOpener } from '../src/cli/tools/browser.js';
import { ROOT } from './blast-support.js';
import { runMain } from './helpers/in-process.js';

/**
 * The dashboard's guards without a cluster: which Host and Origin it accepts, the token, and
 * the page's requests checked as the CLI checks its flags. The scale it lets through reaches
 * a stand-in for the API.
 */

describe('Host, Origin and token', () => {
  it('accepts the loopback address or localhost with our port, nothing else', () => {
    expect(hostAllowed('127.0.0.1:8080', 8080)).toBe(true);
    expect(hostAllowed('LOCALHOST:8080', 8080)).toBe(true);
    for (const host of [
      undefined,
      '127.0.0.1',
      '127.0.0.1:8081',
      'evil.example:8080',
      '[::1]:8080',
    ])
      expect(hostAllowed(host, 8080), String(host)).toBe(false);
  });

  it('takes an Origin only when it is the page that Host names', () => {
    expect(sameOrigin('http://127.0.0.1:8080', '127.0.0.1:8080', 8080)).toBe(true);
    expect(sameOrigin('http://localhost:8080', '127.0.0.1:8080', 8080)).toBe(false);
    expect(sameOrigin('https://127.0.0.1:8080', '127.0.0.1:8080', 8080)).toBe(false);
    expect(sameOrigin(undefined, '127.0.0.1:8080', 8080)).toBe(false);
    expect(sameOrigin('http://evil.example:8080', 'evil.example:8080', 8080)).toBe(false);
  });

  it('matches the token exactly', () => {
    expect(tokenMatches('abc123', 'abc123')).toBe(true);
    expect(tokenMatches('abc12', 'abc123')).toBe(false);
    expect(tokenMatches(['abc123'], 'abc123')).toBe(false);
    expect(tokenMatches(undefined, 'abc123')).toBe(false);
  });
});

describe("the page's requests", () => {
  it('are checked with the flags’ own words', () => {
    expect(blastRequest({ count: 200, via: 'both' })).toEqual({
      count: 200,
      via: 'both',
      parallel: 1,
      keepAlive: false,
    });
    expect(() => blastRequest({ count: 0 })).toThrow(/^--count 0 is out of range/);
    expect(() => blastRequest({ count: 'lots' })).toThrow(/^--count "lots" is not a whole number/);
    expect(() => blastRequest({ via: 'ingress' })).toThrow(/^--via "ingress"/);
    expect(() => blastRequest({ count: 10, parallel: 2, keepAlive: true })).toThrow(
      /^--keep-alive reuses one connection/,
    );
    expect(() => killRequest({ pod: 'Not A Pod' })).toThrow(/^--pod "Not A Pod" is not a pod name/);
    expect(killRequest({ pod: 'web-1', underLoad: true })).toEqual({
      pod: 'web-1',
      underLoad: true,
      crash: false,
    });
    expect(killRequest({ pod: 'web-1', underLoad: true, crash: true })).toMatchObject({
      crash: true,
    });
    expect(() => killRequest({ pod: 'web-1', crash: true })).toThrow(
      /^--crash .* needs --under-load/,
    );
    expect(scaleRequest({ replicas: 10 })).toBe(10);
    expect(() => scaleRequest({ replicas: 11 })).toThrow(
      /^--replicas 11 is out of range.*ten colours/,
    );
    expect(() => scaleRequest({})).toThrow(/^--replicas is missing/);
    expect(() => scaleRequest([])).toThrow(/not a JSON object/);
  });
});

describe('the app', () => {
  const scaled: number[] = [];
  const token = 'f'.repeat(32);
  let server: http.Server;
  let port = 0;

  beforeAll(async () => {
    const hub = new Hub(() => ({ event: 'note', data: { text: 'hello' } }));
    const api = { scaleDeployment: (n: number) => Promise.resolve(void scaled.push(n)) };
    const ctx = { signal: new AbortController().signal } as unknown as Context;
    const actions = new Actions(ctx, {}, api as unknown as KubeApi, hub, () => undefined);
    const app = createDashboardApp({
      assets: '/nonexistent',
      token,
      port: () => port,
      hub,
      actions,
    });
    server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  function send(
    path: string,
    headers: Record<string, string>,
    body = '{"replicas":3}',
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, path, method: 'POST', headers },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString('utf8')));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  const good = () => ({
    Host: `127.0.0.1:${port}`,
    Origin: `http://127.0.0.1:${port}`,
    'Content-Type': 'application/json',
    'X-Replica-Demo-Token': token,
  });

  it('scales with the token from its own origin, and refuses every other way (403, 415, 400)', async () => {
    const ok = await send('/api/scale', good());
    expect(ok.status, ok.text).toBe(202);
    expect(ok.headers['access-control-allow-origin']).toBeUndefined();
    const { 'X-Replica-Demo-Token': _, ...noToken } = good();
    expect((await send('/api/scale', noToken)).status).toBe(403);
    const { Origin: __, ...noOrigin } = good();
    expect((await send('/api/scale', noOrigin)).status).toBe(403);
    expect((await send('/api/scale', { ...good(), Host: `attacker.test:${port}` })).status).toBe(
      403,
    );
    expect((await send('/api/scale', { ...good(), 'Content-Type': 'text/plain' })).status).toBe(
      415,
    );
    const bad = await send('/api/scale', good(), '{"replicas": 0}');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('--replicas 0 is out of range');
    expect((await send('/api/scale', good(), '{nope')).status).toBe(400);
    // Only the one good request reached the API.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(scaled).toEqual([3]);
  });
});

describe('opening a browser', () => {
  it("uses the platform's own opener, with the URL as one argument", () => {
    const url = 'http://127.0.0.1:1/?token=a&b';
    expect(browserOpener('linux', url)).toEqual({ file: 'xdg-open', args: [url] });
    expect(browserOpener('darwin', url)).toEqual({ file: 'open', args: [url] });
    expect(browserOpener('win32', url).args.at(-1)).toBe(url);
  });
});

describe('dashboard flags', () => {
  it('refuses a bad --port in one line naming it (exit 2)', async () => {
    for (const port of ['0', '65536', 'http']) {
      const r = await runMain(['dashboard', '--sim', '--port', port], {
        ...process.env,
        NO_COLOR: '1',
      });
      expect(r.code, port).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/--port/);
    }
  });
});

describe('the built page', () => {
  const built = (file: string) => path.join(ROOT, 'dist', 'dashboard', file);

  it('is small (page and script under 150 KB) and loads nothing from elsewhere', () => {
    const files = ['index.html', 'app.js'];
    const bytes = files.reduce((sum, file) => sum + statSync(built(file)).size, 0);
    console.log(`dashboard page and script: ${(bytes / 1024).toFixed(1)} KB`);
    expect(bytes).toBeLessThan(150 * 1024);
    const html = readFileSync(built('index.html'), 'utf8');
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
    expect(html).toContain('<script src="/app.js"></script>');
    expect(readFileSync(built('app.js'), 'utf8')).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/);
  });
});
