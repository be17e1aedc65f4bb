import * as k8s from '@kubernetes/client-node';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ExitCode, InterruptedError, OperationError, TimeoutError } from '../src/cli/errors.js';
import { KubeApi } from '../src/cli/kube/api.js';
import { waitUntil } from '../src/cli/kube/informer.js';

/**
 * The one watcher against a scripted API server: what it asks for when it lists, resumes
 * and relists, and what the user reads when the server goes away or says no.
 */

interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
}

type Handler = (seen: Seen, res: http.ServerResponse, n: number) => void;

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
});

async function fakeApi(
  handler: Handler,
): Promise<{ api: KubeApi; seen: Seen[]; server: http.Server }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const entry = { method: req.method ?? '', path: url.pathname, query: url.searchParams };
    seen.push(entry);
    handler(entry, res, seen.length);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'fake', cluster: 'c', user: 'u' }],
    currentContext: 'fake',
  });
  return { api: new KubeApi(kc, { mode: 'kind', context: 'fake', namespace: 'ns' }), seen, server };
}

const pod = (name: string, rv: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'ns', resourceVersion: rv },
});

function list(res: http.ServerResponse, rv: string, names: string[]) {
  res.setHeader('content-type', 'application/json');
  res.end(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'PodList',
      metadata: { resourceVersion: rv },
      items: names.map((n) => pod(n, rv)),
    }),
  );
}

function events(res: http.ServerResponse, lines: unknown[], end = true) {
  res.setHeader('content-type', 'application/json');
  // A watch answers with its headers at once, events or not.
  res.flushHeaders();
  for (const line of lines) res.write(`${JSON.stringify(line)}\n`);
  if (end) res.end();
}

const isWatch = (s: Seen) => s.query.get('watch') === 'true';
const never = new AbortController().signal;

describe('the informer', () => {
  it('lists, then watches from the list version, and resumes from the last version seen', async () => {
    let watches = 0;
    const { api, seen } = await fakeApi((s, res) => {
      if (!isWatch(s)) return list(res, '10', ['a']);
      watches += 1;
      // The first watch ends on its own (servers time watches out); the second stays open.
      if (watches === 1) events(res, [{ type: 'ADDED', object: pod('b', '11') }]);
      else events(res, [{ type: 'ADDED', object: pod('c', '12') }], false);
    });
    const pods = api.pods({ labelSelector: 'app=web' });
    await pods.start();
    await waitUntil([pods], () => (pods.get('c') ? true : undefined), {
      signal: never,
      timeoutMs: 5_000,
      onTimeout: () => new Error('no pod c'),
    });
    pods.stop();
    expect(
      pods
        .list()
        .map((p) => p.metadata?.name)
        .sort(),
    ).toEqual(['a', 'b', 'c']);
    const w = seen.filter(isWatch);
    expect(w[0]?.query.get('resourceVersion')).toBe('10');
    expect(w[0]?.query.get('labelSelector')).toBe('app=web');
    expect(w[1]?.query.get('resourceVersion')).toBe('11');
    expect(seen.filter((s) => !isWatch(s))).toHaveLength(1);
  });

  it('lists again after 410 Gone, and drops what the new list no longer has', async () => {
    let lists = 0;
    const { api, seen } = await fakeApi((s, res) => {
      if (!isWatch(s)) {
        lists += 1;
        return lists === 1 ? list(res, '10', ['a', 'b']) : list(res, '20', ['b']);
      }
      if (s.query.get('resourceVersion') === '10') {
        events(res, [{ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } }]);
      } else events(res, [], false);
    });
    const pods = api.pods();
    const deleted: string[] = [];
    await pods.start();
    pods.onChange((change, p) => {
      if (change === 'delete') deleted.push(p.metadata?.name ?? '');
    });
    await waitUntil([pods], () => (lists === 2 && pods.get('a') === undefined ? true : undefined), {
      signal: never,
      timeoutMs: 5_000,
      onTimeout: () => new Error('no relist'),
    });
    await expect
      .poll(() => seen.filter(isWatch).map((w) => w.query.get('resourceVersion')))
      .toEqual(['10', '20']);
    pods.stop();
    expect(deleted).toEqual(['a']);
  });

  it('gives up when the API server stops answering, and says the cluster is unreachable (exit 8)', async () => {
    const { api, server } = await fakeApi((s, res) => {
      if (!isWatch(s)) return list(res, '10', ['a']);
      events(res, [], false);
    });
    const pods = api.pods();
    await pods.start();
    server.closeAllConnections();
    server.close();
    const error = await waitUntil([pods], () => undefined, {
      signal: never,
      timeoutMs: 20_000,
      onTimeout: () => new Error('still waiting'),
    }).catch((e: unknown) => e);
    pods.stop();
    expect(error).toMatchObject({ exitCode: ExitCode.ClusterUnreachable });
    expect((error as Error).message).toMatch(
      /^Could not follow the pods in ns: the API server of context fake is not reachable/,
    );
  });

  it('does not retry a refusal: a 403 on the watch ends the wait at once (exit 12)', async () => {
    const { api, seen } = await fakeApi((s, res) => {
      if (!isWatch(s)) return list(res, '10', ['a']);
      res.statusCode = 403;
      res.end(JSON.stringify({ kind: 'Status', code: 403, message: 'pods is forbidden' }));
    });
    const pods = api.pods();
    const error = await pods.start().catch((e: unknown) => e);
    // A wait started after the failure hears of it at once.
    const waited = await waitUntil([pods], () => undefined, {
      signal: never,
      timeoutMs: 5_000,
      onTimeout: () => new Error('still waiting'),
    }).catch((e: unknown) => e);
    pods.stop();
    expect(error).toBeInstanceOf(OperationError);
    expect((error as OperationError).exitCode).toBe(ExitCode.Failed);
    expect(waited).toBe(error);
    expect(seen.filter(isWatch)).toHaveLength(1);
  });

  it('rejects start() when the list itself is refused', async () => {
    const { api } = await fakeApi((_s, res) => {
      res.statusCode = 403;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ kind: 'Status', code: 403, message: 'pods is forbidden: no' }));
    });
    const pods = api.pods();
    const error = await pods.start().catch((e: unknown) => e);
    pods.stop();
    expect(error).toBeInstanceOf(OperationError);
    expect((error as Error).message).toBe('Could not follow the pods in ns: pods is forbidden: no');
  });
});

describe('waitUntil', () => {
  const idle = async () =>
    fakeApi((s, res) => (isWatch(s) ? events(res, [], false) : list(res, '1', [])));

  it('ends with the caller’s timeout error, built when the time is up', async () => {
    const { api } = await idle();
    const pods = api.pods();
    await pods.start();
    let built = 0;
    const error = await waitUntil([pods], () => undefined, {
      signal: never,
      timeoutMs: 50,
      onTimeout: () => {
        built += 1;
        return new TimeoutError(`gave up with ${pods.list().length} pods`);
      },
    }).catch((e: unknown) => e);
    pods.stop();
    expect(built).toBe(1);
    expect((error as Error).message).toBe('gave up with 0 pods');
  });

  it('ends on Ctrl-C with the caller’s message, and on a check that throws with its error', async () => {
    const { api } = await idle();
    const pods = api.pods();
    await pods.start();
    const abort = new AbortController();
    const interrupted = waitUntil([pods], () => undefined, {
      signal: abort.signal,
      timeoutMs: 5_000,
      onTimeout: () => new Error('timeout'),
      onAbort: () => new InterruptedError('stopped at 0/1'),
    }).catch((e: unknown) => e);
    abort.abort();
    expect(((await interrupted) as Error).message).toBe('stopped at 0/1');
    const thrown = await waitUntil(
      [pods],
      () => {
        throw new OperationError('the check says no');
      },
      { signal: never, timeoutMs: 5_000, onTimeout: () => new Error('timeout') },
    ).catch((e: unknown) => e);
    pods.stop();
    expect((thrown as Error).message).toBe('the check says no');
  });
});
