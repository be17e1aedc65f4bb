import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';
import type { DashboardFlags, TargetFlags } from '../core/flags.js';
import { describeTarget, noCluster, resolveTarget, type Target } from '../target.js';
import { connect } from '../kube/api.js';
import { openInBrowser } from '../tools/browser.js';
import { Actions } from '../dashboard/actions.js';
import { createDashboardApp } from '../dashboard/app.js';
import type { ClusterView } from '../dashboard/protocol.js';
import { Hub } from '../dashboard/hub.js';
import { newToken } from '../dashboard/security.js';
import { ClusterWatch } from '../dashboard/watch.js';

/**
 * `replica-demo dashboard`: the lesson on a page, live. Serves on 127.0.0.1 until Ctrl-C
 * (exit 0); the page's buttons run the CLI's own `blast`, `kill-pod` and a scale.
 */

export interface DashboardResult {
  url: string;
}

/** The page and its script, built next to the compiled CLI (dist/dashboard). */
const ASSETS = fileURLToPath(new URL('../../dashboard/', import.meta.url));

/** The flags each action is run with: the cluster the dashboard resolved, named explicitly. */
function flagsFor(target: Target, given: TargetFlags): TargetFlags {
  const namespace = { namespace: target.namespace };
  if (target.mode === 'sim') return { sim: true, ...namespace };
  if (target.mode === 'kind' && target.cluster !== undefined)
    return { cluster: target.cluster, ...namespace };
  return { context: target.context, ...(given.yes ? { yes: true } : {}), ...namespace };
}

async function listen(server: Server, port: number | undefined): Promise<number> {
  server.listen(port ?? 0, '127.0.0.1');
  try {
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([error]) => Promise.reject(error as Error)),
    ]);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (port !== undefined && (code === 'EADDRINUSE' || code === 'EACCES')) {
      throw new UsageError(
        `--port ${port} cannot be used on 127.0.0.1 (${code === 'EADDRINUSE' ? 'in use' : 'not allowed'}); give another port, or leave --port out for a free one.`,
      );
    }
    throw error;
  }
  return (server.address() as AddressInfo).port;
}

/** `run` once, `ms` after the first of any number of pushes. */
function coalesce(ms: number, run: () => void): { push: () => void; cancel: () => void } {
  let pending: NodeJS.Timeout | undefined;
  return {
    push: () => {
      pending ??= setTimeout(() => {
        pending = undefined;
        run();
      }, ms);
    },
    cancel: () => clearTimeout(pending),
  };
}

export async function dashboard(opts: DashboardFlags, ctx: Context): Promise<DashboardResult> {
  const target = await resolveTarget(opts, ctx, { detect: true });
  if (target === undefined) throw noCluster();
  const where = describeTarget(target);
  ctx.printer.note(where);
  const api = connect(target);
  const token = newToken();
  let port = opts.port ?? 0;
  // Bursts of watch events (a rollout) reach the page as one update.
  const update = coalesce(50, () => hub.send('cluster', view(), false));
  const watch = new ClusterWatch(api, ctx, update.push);
  const hub = new Hub(() => ({ event: 'cluster', data: view() }));
  const actions = new Actions(ctx, flagsFor(target, opts), api, hub, update.push);
  const view = (): ClusterView => ({ where, ...watch.state(), busy: actions.current });
  const app = createDashboardApp({ assets: ASSETS, token, port: () => port, hub, actions });
  const http = createServer(app);
  port = await listen(http, opts.port);
  const url = `http://127.0.0.1:${port}/?token=${token}`;
  try {
    await watch.start();
    ctx.printer.line(`Dashboard: ${url}`);
    ctx.printer.note('Open it in a browser on this machine; Ctrl-C stops the dashboard.');
    if (opts.open && !(await openInBrowser(url, ctx.env)))
      ctx.printer.note('Could not open a browser here; open the URL above yourself.');
    if (!ctx.signal.aborted) await once(ctx.signal, 'abort');
  } finally {
    // Ctrl-C stops a running blast or kill as it would the command: its Job is deleted first.
    await actions.stopAndWait();
    watch.stop();
    update.cancel();
    hub.close();
    http.closeAllConnections();
    http.close();
  }
  return { url };
}
