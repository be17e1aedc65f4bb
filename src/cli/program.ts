import { Command, Option } from 'commander';
import type { Context } from './context.js';
import { NAMESPACE } from './core/names.js';

import type { RawOptions } from './core/options.js';

/**
 * Commands and flags only. Every action loads its command module on demand, so
 * `replica-demo --help` does not pay for the Kubernetes client.
 *
 * Flag values arrive as raw strings; each command validates its own and names the flag
 * in the error.
 */

function clusterFlags(command: Command): Command {
  return command
    .option('--cluster <name>', 'kind cluster to use (default: the one `up` used)')
    .option('--context <ctx>', 'kubeconfig context to use')
    .option('--sim', 'use the embedded cluster')
    .option('-n, --namespace <ns>', `namespace (default: the one \`up\` used, else ${NAMESPACE})`);
}

function baseImageOption(): Option {
  return new Option(
    '--base-image <image>',
    "Node.js image the server image is built on (default: the Dockerfile's node:22-alpine)",
  ).env('REPLICA_DEMO_BASE_IMAGE');
}

export function buildProgram(ctx: Context, version: string): Command {
  const program = new Command('replica-demo')
    .description('See how a Kubernetes Service spreads traffic across replicas.')
    .version(version)
    .showHelpAfterError(false)
    .allowExcessArguments(false);

  clusterFlags(program.command('up'))
    .description('build the image, load it, deploy 5 replicas and a Service, wait until ready')
    .option('--replicas <n>', 'number of replicas (1..50)', '5')
    .option('--create-cluster', 'create the kind cluster when it does not exist')
    .option('--no-build', 'do not build or load the image')
    .addOption(baseImageOption())
    .option('--dry-run', 'print every command and API call, change nothing')
    .option('--timeout <s>', 'seconds to wait for the replicas to be ready', '180')
    .option('-y, --yes', 'do not ask; required to use a context that is not kind or embedded')
    .action(async (opts: RawOptions) => {
      const { up } = await import('./commands/up.js');
      await up(opts, ctx);
    });

  clusterFlags(program.command('down'))
    .description('remove what `up` created, and nothing else')
    .option('--delete-cluster', 'also delete the kind cluster, if `up --create-cluster` made it')
    .option(
      '--keep-cluster',
      'with the embedded cluster: remove the namespace, keep the cluster running',
    )
    .option('--dry-run', 'print what would be deleted, change nothing')
    .option('--timeout <s>', 'seconds to wait for the namespace to go', '120')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (opts: RawOptions) => {
      const { down } = await import('./commands/down.js');
      await down(opts, ctx);
    });

  clusterFlags(program.command('blast'))
    .description('send requests from inside the cluster and show which replica answered')
    .option('--count <n>', 'number of requests (1..100000)', '20')
    .addOption(
      new Option('--via <path>', 'which path to measure')
        .choices(['service', 'port-forward', 'both'])
        .default('both'),
    )
    .option('--parallel <p>', 'concurrent requests (1..50, at most --count)', '1')
    .option(
      '--keep-alive',
      'reuse one connection for every request (shows why it lands on one pod)',
    )
    .option('--json', 'print one JSON object and nothing else on stdout')
    .option('--timeout <s>', 'seconds the blast may take', '120')
    .action(async (opts: RawOptions) => {
      const { blast } = await import('./commands/blast.js');
      await blast(opts, ctx);
    });

  clusterFlags(program.command('kill-pod'))
    .description('delete one replica and time how the ReplicaSet replaces it')
    .option('--pod <name>', 'pod to delete (default: a random ready one)')
    .option('--seed <n>', 'make the random choice reproducible')
    .option('--grace <s>', 'grace period in seconds for the deleted pod')
    .option('--timeout <s>', 'seconds to wait for recovery', '120')
    .option('--json', 'print one JSON object and nothing else on stdout')
    .action(async (opts: RawOptions) => {
      const { killPod } = await import('./commands/kill-pod.js');
      await killPod(opts, ctx);
    });

  program
    .command('tour')
    .description('the whole lesson, narrated: up, blast, keep-alive, kill-pod, blast, down')
    .option('--keep', 'leave the deployment running at the end')
    .option('--sim', 'use the embedded cluster even when a kind cluster is reachable')
    .addOption(baseImageOption())
    .action(async (opts: RawOptions) => {
      const { tour } = await import('./commands/tour.js');
      await tour(opts, ctx);
    });

  const sim = program.command('sim').description('the embedded cluster: a local stand-in for kind');
  sim
    .command('start')
    .description('start the embedded cluster in the background')
    .option('--nodes <n>', 'number of simulated nodes (1..10)', '3')
    .action(async (opts: RawOptions) => {
      const { simStart } = await import('./commands/sim.js');
      await simStart(opts, ctx);
    });
  sim
    .command('stop')
    .description('stop the embedded cluster and every pod process')
    .action(async (opts: RawOptions) => {
      const { simStop } = await import('./commands/sim.js');
      await simStop(opts, ctx);
    });
  sim
    .command('status')
    .description('say whether the embedded cluster runs, and where')
    .action(async (opts: RawOptions) => {
      const { simStatus } = await import('./commands/sim.js');
      await simStatus(opts, ctx);
    });
  sim
    .command('kubeconfig')
    .description('print the embedded cluster kubeconfig (like `kind get kubeconfig`)')
    .action(async (opts: RawOptions) => {
      const { simKubeconfig } = await import('./commands/sim.js');
      await simKubeconfig(opts, ctx);
    });

  return program;
}
