import { Argument, Command, Option } from 'commander';
import type { Context } from './context.js';
import { NAMESPACE } from './core/names.js';
import { SHELLS, type Shell } from './completion-shells.js';

import {
  AFFINITIES,
  DEFAULTS,
  RANGES,
  VIAS,
  parseInteger,
  parseSince,
  type IntegerRange,
} from './core/flags.js';
import { validatePodName, validateSeed } from './core/blast-plan.js';
import { parseRegistry } from './core/registry.js';
import {
  validateBaseImage,
  validateClusterName,
  validateContextName,
  validateNamespace,
} from './core/validate.js';

/**
 * Commands and flags only. Every action loads its command module on demand, so
 * `replica-demo --help` does not pay for the Kubernetes client.
 *
 * Each flag is parsed here, once: its parser (core/flags.ts, core/validate.ts) turns the
 * text into a typed value or a UsageError naming the flag; its default is written once.
 * A command receives typed flags and checks only how they combine.
 */

function integer(flag: string, range: IntegerRange): (raw: string) => number {
  return (raw) => parseInteger(flag, raw, range);
}

function clusterFlags(command: Command): Command {
  return command
    .addOption(
      new Option('--cluster <name>', 'kind cluster to use (default: the one `up` used)').argParser(
        validateClusterName,
      ),
    )
    .addOption(
      new Option('--context <ctx>', 'kubeconfig context to use').argParser(validateContextName),
    )
    .option('--sim', 'use the embedded cluster')
    .addOption(
      new Option(
        '-n, --namespace <ns>',
        `namespace (default: the one \`up\` used, else ${NAMESPACE})`,
      ).argParser(validateNamespace),
    );
}

function timeoutOption(what: string, seconds: number): Option {
  return new Option('--timeout <s>', `seconds ${what} (1..${RANGES.timeout.max})`)
    .argParser(integer('--timeout', { ...RANGES.timeout, example: seconds }))
    .default(seconds);
}

function baseImageOption(): Option {
  return new Option(
    '--base-image <image>',
    "Node.js image the server image is built on (default: the Dockerfile's node:22-alpine)",
  )
    .env('REPLICA_DEMO_BASE_IMAGE')
    .argParser(validateBaseImage);
}

/** The commands by name, each loaded on demand. */
const COMMANDS = {
  up: async () => (await import('./commands/up.js')).up,
  down: async () => (await import('./commands/down.js')).down,
  blast: async () => (await import('./commands/blast.js')).blast,
  'kill-pod': async () => (await import('./commands/kill-pod.js')).killPod,
  tour: async () => (await import('./commands/tour.js')).tour,
  status: async () => (await import('./commands/status.js')).status,
  logs: async () => (await import('./commands/logs.js')).logs,
  dashboard: async () => (await import('./commands/dashboard.js')).dashboard,
  'sim start': async () => (await import('./commands/sim.js')).simStart,
  'sim stop': async () => (await import('./commands/sim.js')).simStop,
  'sim status': async () => (await import('./commands/sim.js')).simStatus,
  'sim kubeconfig': async () => (await import('./commands/sim.js')).simKubeconfig,
} as const;

export type CommandName = keyof typeof COMMANDS;

/** What an action does with the parsed flags; tests pass one that only records them. */
export type Dispatch = (command: CommandName, flags: object) => Promise<void>;

function runCommand(ctx: Context): Dispatch {
  return async (name, flags) => {
    const [command] = await Promise.all([COMMANDS[name](), ctx.printer.prepare()]);
    await (command as (flags: object, ctx: Context) => Promise<unknown>)(flags, ctx);
  };
}

type Run = (name: CommandName) => (flags: object) => Promise<void>;

function addUp(program: Command, run: Run): void {
  clusterFlags(program.command('up'))
    .description('build the image, load it, deploy 5 replicas and a Service, wait until ready')
    .addOption(
      new Option(
        '--replicas <n>',
        `number of replicas (${RANGES.replicas.min}..${RANGES.replicas.max})`,
      )
        .argParser(integer('--replicas', RANGES.replicas))
        .default(DEFAULTS.replicas),
    )
    .option('--create-cluster', 'create the kind cluster when it does not exist')
    .option('--no-build', 'do not build or load the image')
    .addOption(baseImageOption())
    .addOption(
      new Option(
        '--registry <host/path>',
        'push the images to HOST[:PORT]/PATH and deploy them from there (clusters without kind load)',
      ).argParser(parseRegistry),
    )
    .option('--dry-run', 'print every command and API call, change nothing')
    .addOption(timeoutOption('to wait for the replicas to be ready', DEFAULTS.upTimeout))
    .option('-y, --yes', 'do not ask; required to use a context that is not kind or embedded')
    .option('--json', 'print one JSON object on stdout; everything else goes to stderr')
    .action(run('up'));
}

function addDown(program: Command, run: Run): void {
  clusterFlags(program.command('down'))
    .description('remove what `up` created, and nothing else')
    .option('--delete-cluster', 'also delete the kind cluster, if `up --create-cluster` made it')
    .addOption(
      new Option(
        '--keep-cluster',
        'with the embedded cluster: remove the namespace, keep the cluster running',
      ).conflicts('deleteCluster'),
    )
    .option('--dry-run', 'print what would be deleted, change nothing')
    .addOption(timeoutOption('to wait for the namespace to go', DEFAULTS.downTimeout))
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--json', 'print one JSON object on stdout; everything else goes to stderr')
    .action(run('down'));
}

function addBlast(program: Command, run: Run): void {
  clusterFlags(program.command('blast'))
    .description('send requests from inside the cluster and show which replica answered')
    .addOption(
      new Option('--count <n>', `number of requests (1..${RANGES.count.max})`)
        .argParser(integer('--count', RANGES.count))
        .default(DEFAULTS.count),
    )
    .addOption(
      new Option('--via <path>', 'which path to measure').choices(VIAS).default(DEFAULTS.via),
    )
    .addOption(
      new Option(
        '--parallel <p>',
        `concurrent requests (1..${RANGES.parallel.max}, at most --count)`,
      )
        .argParser(integer('--parallel', RANGES.parallel))
        .default(DEFAULTS.parallel),
    )
    .option(
      '--keep-alive',
      'reuse one connection for every request (shows why it lands on one pod)',
    )
    .addOption(
      new Option(
        '--affinity <mode>',
        "the Service's sessionAffinity for this blast only; restored afterwards",
      ).choices(AFFINITIES),
    )
    .option('--json', 'print one JSON object and nothing else on stdout')
    .addOption(timeoutOption('the blast may take', DEFAULTS.blastTimeout))
    .action(run('blast'));
}

function addKillPod(program: Command, run: Run): void {
  clusterFlags(program.command('kill-pod'))
    .description('delete one replica and time how the ReplicaSet replaces it')
    .addOption(
      new Option('--pod <name>', 'pod to delete (default: a random ready one)').argParser(
        validatePodName,
      ),
    )
    .addOption(
      new Option('--seed <n>', 'make the random choice reproducible').argParser(validateSeed),
    )
    .addOption(
      new Option('--grace <s>', 'grace period in seconds for the deleted pod').argParser(
        integer('--grace', RANGES.grace),
      ),
    )
    .option(
      '--under-load',
      'keep a steady load through the Service meanwhile; count per second what failed',
    )
    .option('--force', 'with --under-load: delete with grace 0, skipping the preStop hook')
    .option(
      '--crash',
      'with --under-load: crash the server process (exit 1, through a port-forward) instead of deleting the pod',
    )
    .addOption(timeoutOption('to wait for recovery', DEFAULTS.killTimeout))
    .option('--json', 'print one JSON object and nothing else on stdout')
    .action(run('kill-pod'));
}

function addStatus(program: Command, run: Run): void {
  clusterFlags(program.command('status'))
    .description(
      'where the lesson runs, replicas ready, endpoints, kube-proxy mode, last blast (exit 0 when ready)',
    )
    .option('--json', 'print one JSON object and nothing else on stdout')
    .action(run('status'));
}

function addLogs(program: Command, run: Run): void {
  clusterFlags(program.command('logs'))
    .description("every replica's log in one stream, each pod in its own colour")
    .option('-f, --follow', 'keep following, new pods included, until Ctrl-C')
    .addOption(
      new Option('--since <duration>', 'only lines newer than this, e.g. 30s, 5m, 2h').argParser(
        parseSince,
      ),
    )
    .action(run('logs'));
}

function addDashboard(program: Command, run: Run): void {
  clusterFlags(program.command('dashboard'))
    .description(
      'a live page on 127.0.0.1: pods by node, blast, kill and scale from the browser (until Ctrl-C)',
    )
    .addOption(
      new Option('--port <n>', 'local port to serve on (default: a free one)').argParser(
        integer('--port', RANGES.port),
      ),
    )
    .option('--open', 'open the page in the default browser')
    .action(run('dashboard'));
}

function addTour(program: Command, run: Run): void {
  program
    .command('tour')
    .description('the whole lesson, narrated: up, blast, keep-alive, kill-pod, blast, down')
    .option('--keep', 'leave the deployment running at the end')
    .option('--step', 'wait for Enter before each step (the default on a terminal)')
    .option('--no-step', 'run every step without waiting')
    .option('--sim', 'use the embedded cluster even when a kind cluster is reachable')
    .addOption(baseImageOption())
    .action(run('tour'));
}

function addSim(program: Command, run: Run): void {
  const sim = program.command('sim').description('the embedded cluster: a local stand-in for kind');
  sim
    .command('start')
    .description('start the embedded cluster in the background')
    .addOption(
      new Option('--nodes <n>', `number of simulated nodes (1..${RANGES.nodes.max})`)
        .argParser(integer('--nodes', RANGES.nodes))
        .default(DEFAULTS.nodes),
    )
    .action(run('sim start'));
  sim
    .command('stop')
    .description('stop the embedded cluster and every pod process')
    .action(run('sim stop'));
  sim
    .command('status')
    .description('say whether the embedded cluster runs, and where (exit 13 when it does not)')
    .option('--json', 'print one JSON object and nothing else on stdout')
    .action(run('sim status'));
  sim
    .command('kubeconfig')
    .description('print the embedded cluster kubeconfig (like `kind get kubeconfig`)')
    .action(run('sim kubeconfig'));
}

function addCompletion(program: Command, ctx: Context): void {
  program
    .command('completion')
    .description('print shell completion: source <(replica-demo completion bash), or zsh')
    .addArgument(new Argument('<shell>', 'bash or zsh').choices(SHELLS))
    .action(async (shell: Shell) => {
      const { completionScript } = await import('./completion.js');
      ctx.printer.line(completionScript(shell, program));
    });
}

export function buildProgram(
  ctx: Context,
  version: string,
  dispatch: Dispatch = runCommand(ctx),
): Command {
  const run = (name: CommandName) => (flags: object) => dispatch(name, flags);
  const program = new Command('replica-demo')
    .description('See how a Kubernetes Service spreads traffic across replicas.')
    .version(version)
    .option('--no-color', 'print without colour (as when NO_COLOR is set)')
    .showHelpAfterError(false)
    .allowExcessArguments(false);

  addUp(program, run);
  addDown(program, run);
  addBlast(program, run);
  addKillPod(program, run);
  addStatus(program, run);
  addLogs(program, run);
  addDashboard(program, run);
  addTour(program, run);
  addSim(program, run);
  addCompletion(program, ctx);

  // Sub-commands copy these settings only when created, so set them on every command:
  // otherwise commander exits by itself (code 1) on a bad flag of `up`. Errors are printed
  // by main.ts, in one line; help asked for by a bare `sim` still shows.
  const quiet = (command: Command): void => {
    command.exitOverride();
    command.configureOutput({
      outputError: () => undefined,
      // Help and version go where the run's output goes (a test's stream, too).
      writeOut: (text) => ctx.printer.line(text.replace(/\n$/, '')),
    });
    command.commands.forEach(quiet);
  };
  quiet(program);
  return program;
}
