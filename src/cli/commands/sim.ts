import type { Context } from '../context.js';
import { ExitCode, StatusExit } from '../errors.js';
import type { SimStartFlags } from '../core/flags.js';
import {
  simKubeconfigText,
  simStatus as readSimStatus,
  startSim,
  stopSim,
  type SimStatusInfo,
  type StartResult,
} from '../sim-control.js';

/** `replica-demo sim start|stop|status|kubeconfig`: the embedded cluster's lifecycle. */

export async function simStart(flags: SimStartFlags, ctx: Context): Promise<StartResult> {
  const nodes = flags.nodes;
  const progress = ctx.printer.progress('Starting the embedded cluster');
  let result: StartResult;
  try {
    const seed = ctx.env.REPLICA_DEMO_SIM_SEED;
    result = await startSim({ home: ctx.home, nodes, env: ctx.env, ...(seed ? { seed } : {}) });
  } catch (error) {
    progress.fail('The embedded cluster did not start');
    throw error;
  }
  if (result.started)
    progress.succeed(
      `Embedded cluster running (pid ${result.pid}, 127.0.0.1:${result.port}, ${nodes} node(s))`,
    );
  else {
    progress.stop();
    ctx.printer.line(
      `The embedded cluster is already running (pid ${result.pid}, 127.0.0.1:${result.port}).`,
    );
  }
  printUsage(ctx, result.kubeconfigPath);
  return result;
}

function printUsage(ctx: Context, kubeconfigPath: string): void {
  ctx.printer.line(
    'This is the embedded cluster: a local stand-in for kind, not a real Kubernetes.',
  );
  ctx.printer.line(`Kubeconfig (context replica-demo-sim): ${kubeconfigPath}`);
  ctx.printer.line('Point kubectl at it:');
  ctx.printer.line(`  kubectl --kubeconfig ${kubeconfigPath} get pods -n multi-replica-web`);
  ctx.printer.line(`  export KUBECONFIG=${kubeconfigPath}`);
}

export async function simStop(_flags: object, ctx: Context): Promise<boolean> {
  const progress = ctx.printer.progress('Stopping the embedded cluster and every pod process');
  const stopped = await stopSim(ctx.home);
  if (stopped) progress.succeed('Embedded cluster stopped; no pod process is left.');
  else {
    progress.stop();
    ctx.printer.line('The embedded cluster is not running.');
  }
  return stopped;
}

export function simStatus(flags: { json?: boolean }, ctx: Context): Promise<SimStatusInfo> {
  const status = readSimStatus(ctx.home);
  if (flags.json) {
    ctx.printer.line(
      JSON.stringify({
        running: status.running,
        pid: status.pid ?? null,
        server: status.server ?? null,
        nodes: status.nodes ?? null,
        startedAt: status.startedAt ?? null,
        kubeconfig: status.kubeconfigPath,
        context: 'replica-demo-sim',
        log: status.logPath,
      }),
    );
  } else if (status.running) {
    ctx.printer.line(
      `Embedded cluster: running (pid ${status.pid}, ${status.server}, ${status.nodes} node(s), since ${status.startedAt})`,
    );
    ctx.printer.line(`Kubeconfig: ${status.kubeconfigPath} (context replica-demo-sim)`);
    ctx.printer.line(`Log: ${status.logPath}`);
  } else {
    ctx.printer.line('Embedded cluster: not running. Start it with `replica-demo sim start`.');
  }
  if (status.running) return Promise.resolve(status);
  // Like `systemctl status`: scripts can ask with the exit code alone.
  return Promise.reject(new StatusExit('', ExitCode.EmbeddedCluster));
}

export function simKubeconfig(_flags: object, ctx: Context): Promise<string> {
  const text = simKubeconfigText(ctx.home);
  ctx.printer.line(text.trimEnd());
  return Promise.resolve(text);
}
