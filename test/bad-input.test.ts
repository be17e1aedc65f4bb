import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandLines, sandbox, type CliRun, type Sandbox } from './fakes/harness.js';

/**
 * Bad input is refused before anything runs: each case exits with its documented code,
 * prints exactly one line on stderr naming the flag (or command) at fault, writes nothing on
 * stdout or in the tool's home, and neither the fake docker/kind/kubectl nor the Kubernetes
 * API hear from it. The table runs in-process; a few cases go through the real process too,
 * for its exit code and stderr.
 */

const USAGE = 2;
const REFUSED = 9;
const NOT_MANAGED = 10;

let box: Sandbox;
/** Counts every connection the CLI opens to "the cluster": kind contexts and the embedded one. */
let listener: net.Server;
let connections = 0;
let port: number;
/** A kubeconfig whose contexts all lead to the listener. */
let kubeconfig: string;
/** A home whose state names a running embedded cluster at the listener. */
let simHome: string;
let daemon: ChildProcess;

function listenerKubeconfig(contexts: string[]): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    `clusters: [{name: counted, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]`,
    'users: [{name: counted, user: {token: t}}]',
    `contexts: [${contexts.map((c) => `{name: ${c}, context: {cluster: counted, user: counted}}`).join(', ')}]`,
    `current-context: ${contexts[0] ?? ''}`,
    '',
  ].join('\n');
}

beforeAll(async () => {
  box = sandbox();
  listener = net.createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  port = (listener.address() as net.AddressInfo).port;
  kubeconfig = path.join(box.dir, 'counted-kubeconfig');
  writeFileSync(
    kubeconfig,
    listenerKubeconfig(['kind-kind', 'kind-lesson', 'kind-other', 'prod-admin']),
  );

  // A stand-in for a running embedded cluster: its state names an idle process that looks
  // like this home's daemon, and the listener's port.
  simHome = path.join(box.dir, 'recorded-sim');
  mkdirSync(path.join(simHome, 'sim'), { recursive: true });
  const idle = path.join(box.dir, 'daemon.js');
  writeFileSync(idle, 'setInterval(() => undefined, 1000);\n');
  daemon = spawn(process.execPath, [idle, '--home', simHome], { stdio: 'ignore' });
  const state = {
    pid: daemon.pid,
    port,
    token: 't',
    startedAt: new Date().toISOString(),
    nodes: 3,
    server: `https://127.0.0.1:${port}`,
    ca: '',
  };
  writeFileSync(path.join(simHome, 'sim', 'state.json'), JSON.stringify(state));
  writeFileSync(path.join(simHome, 'sim', 'kubeconfig'), listenerKubeconfig(['replica-demo-sim']));
});

afterAll(async () => {
  daemon?.kill('SIGKILL');
  await new Promise<void>((resolve) => listener.close(() => resolve()));
  box.cleanup();
});

/** Every file below `dir` with its content: what a run must leave as it found it. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true }) as string[]) {
    const full = path.join(dir, entry);
    try {
      files[entry] = readFileSync(full, 'utf8');
    } catch {
      files[entry] = '(folder)';
    }
  }
  return files;
}

interface BadInput {
  args: string[];
  code: number;
  /** The flag (or command) the one stderr line names. */
  flag: string;
  /** What else that line says: the reason. */
  says: string;
  /** A saved state to start from. */
  state?: Record<string, unknown>;
}

/** A fresh home, holding `state` when given. */
function homeWith(state?: Record<string, unknown>): string {
  const home = path.join(box.dir, `home-${Math.random().toString(36).slice(2)}`);
  mkdirSync(home);
  if (state) {
    writeFileSync(path.join(home, 'state.json'), JSON.stringify(state), { mode: 0o600 });
  }
  return home;
}

/** The checks every refused case shares. */
async function expectRefused(c: BadInput, home: string, run: () => Promise<CliRun>) {
  const before = snapshot(home);
  const connectionsBefore = connections;
  const r = await run();
  expect(r.code, r.stderr).toBe(c.code);
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toContain(c.flag);
  expect(lines[0]).toContain(c.says);
  expect(r.stdout).toBe('');
  expect(commandLines(r.calls)).toEqual([]);
  expect(connections - connectionsBefore, 'connections to the cluster').toBe(0);
  expect(snapshot(home)).toEqual(before);
}

const long = (n: number) => 'a'.repeat(n);

const cases: BadInput[] = [
  // --cluster: kind names (DNS-1123 labels short enough for kind's node names)
  { args: ['up', '--cluster', 'Kind'], code: USAGE, flag: '--cluster', says: 'has upper-case' },
  {
    args: ['up', '--cluster', '-kind'],
    code: USAGE,
    flag: '--cluster "-kind"',
    says: 'starts with "-"',
  },
  { args: ['up', '--cluster', 'kind-'], code: USAGE, flag: '--cluster "kind-"', says: 'ends with' },
  {
    args: ['up', '--cluster', 'my_cluster'],
    code: USAGE,
    flag: '--cluster "my_cluster"',
    says: 'has characters',
  },
  {
    args: ['up', '--cluster', 'a.b'],
    code: USAGE,
    flag: '--cluster "a.b"',
    says: 'has characters',
  },
  { args: ['up', '--cluster', ''], code: USAGE, flag: '--cluster ""', says: 'is empty' },
  {
    args: ['up', '--cluster', long(50)],
    code: USAGE,
    flag: `--cluster "${long(50)}"`,
    says: 'at most 49 characters',
  },
  // --namespace: DNS-1123 label
  { args: ['up', '--namespace', 'Multi'], code: USAGE, flag: '--namespace', says: 'upper-case' },
  { args: ['up', '-n', '-web'], code: USAGE, flag: '--namespace "-web"', says: 'starts with "-"' },
  { args: ['up', '-n', 'web-'], code: USAGE, flag: '--namespace "web-"', says: 'ends with "-"' },
  {
    args: ['up', '-n', long(64)],
    code: USAGE,
    flag: `--namespace "${long(64)}"`,
    says: 'at most 63 characters',
  },
  { args: ['up', '-n', 'a b'], code: USAGE, flag: '--namespace "a b"', says: 'has characters' },
  {
    args: ['up', '-n', 'web.lesson'],
    code: USAGE,
    flag: '--namespace "web.lesson"',
    says: 'has characters',
  },
  {
    args: ['down', '-n', 'Bad_Name', '--yes'],
    code: USAGE,
    flag: '--namespace "Bad_Name"',
    says: 'DNS-1123',
  },
  // --context
  { args: ['up', '--context', ''], code: USAGE, flag: '--context', says: 'is empty' },
  {
    args: ['up', '--context=-kind-kind'],
    code: USAGE,
    flag: '--context "-kind-kind"',
    says: 'starts with "-"',
  },
  // --replicas 1..50
  {
    args: ['up', '--registry', 'lesson/images'],
    code: USAGE,
    flag: '--registry "lesson/images"',
    says: 'does not start with a registry host',
  },
  {
    args: ['up', '--registry', 'localhost:5001/lesson:v1'],
    code: USAGE,
    flag: '--registry',
    says: 'names a tag or digest',
  },
  {
    args: ['up', '--registry', 'https://ghcr.io/me'],
    code: USAGE,
    flag: '--registry',
    says: 'is a URL',
  },
  {
    args: ['up', '--registry', 'localhost:99999/x'],
    code: USAGE,
    flag: '--registry',
    says: 'outside 1..65535',
  },
  {
    args: ['up', '--sim', '--registry', 'localhost:5001/lesson'],
    code: USAGE,
    flag: '--registry',
    says: 'cannot be used with --sim',
  },
  { args: ['up', '--replicas', '0'], code: USAGE, flag: '--replicas 0', says: 'out of range' },
  { args: ['up', '--replicas', '51'], code: USAGE, flag: '--replicas 51', says: 'out of range' },
  {
    args: ['up', '--replicas', '-1'],
    code: USAGE,
    flag: '--replicas "-1"',
    says: 'is not a whole number',
  },
  {
    args: ['up', '--replicas', '2.5'],
    code: USAGE,
    flag: '--replicas "2.5"',
    says: 'is not a whole number',
  },
  {
    args: ['up', '--replicas', 'five'],
    code: USAGE,
    flag: '--replicas "five"',
    says: 'is not a whole number',
  },
  {
    args: ['up', '--replicas', '1e1'],
    code: USAGE,
    flag: '--replicas "1e1"',
    says: 'is not a whole number',
  },
  {
    args: ['up', '--replicas', ''],
    code: USAGE,
    flag: '--replicas ""',
    says: 'is not a whole number',
  },
  { args: ['up', '--replicas'], code: USAGE, flag: "'--replicas <n>'", says: 'argument missing' },
  // --timeout: positive whole seconds
  { args: ['up', '--timeout', '0'], code: USAGE, flag: '--timeout 0', says: 'out of range' },
  {
    args: ['up', '--timeout', '1.5'],
    code: USAGE,
    flag: '--timeout "1.5"',
    says: 'is not a whole number',
  },
  {
    args: ['up', '--timeout', '99999999'],
    code: USAGE,
    flag: '--timeout 99999999',
    says: 'out of range',
  },
  {
    args: ['down', '--timeout', 'soon', '--yes'],
    code: USAGE,
    flag: '--timeout "soon"',
    says: 'is not a whole number',
  },
  // unknown flags, commands, arguments
  { args: ['up', '--frobnicate'], code: USAGE, flag: "'--frobnicate'", says: 'unknown option' },
  { args: ['upp'], code: USAGE, flag: "'upp'", says: 'unknown command' },
  { args: ['up', 'now'], code: USAGE, flag: "'up'", says: 'too many arguments' },
  { args: ['down', '--force'], code: USAGE, flag: "'--force'", says: 'unknown option' },
  { args: ['kill-pod', '--force'], code: USAGE, flag: '--force', says: 'needs --under-load' },
  {
    args: ['kill-pod', '--under-load', '--force', '--grace', '3'],
    code: USAGE,
    flag: '--grace 3',
    says: 'contradicts; drop --grace',
  },
  { args: ['kill-pod', '--crash'], code: USAGE, flag: '--crash', says: 'needs --under-load' },
  {
    args: ['kill-pod', '--under-load', '--crash', '--force'],
    code: USAGE,
    flag: '--crash',
    says: 'drop --force',
  },
  {
    args: ['kill-pod', '--under-load', '--crash', '--grace', '5'],
    code: USAGE,
    flag: '--grace 5',
    says: 'drop --grace',
  },
  // conflicting flags
  {
    args: ['up', '--sim', '--cluster', 'kind'],
    code: USAGE,
    flag: '--sim and --cluster',
    says: 'cannot be used together',
  },
  {
    args: ['up', '--sim', '--context', 'kind-kind'],
    code: USAGE,
    flag: '--sim and --context',
    says: 'cannot be used together',
  },
  {
    args: ['up', '--sim', '--create-cluster'],
    code: USAGE,
    flag: '--sim and --create-cluster',
    says: 'cannot be used together',
  },
  {
    args: ['up', '--no-build', '--create-cluster'],
    code: USAGE,
    flag: '--no-build',
    says: 'cannot be used with --create-cluster',
  },
  {
    args: ['up', '--cluster', 'a', '--context', 'kind-b'],
    code: USAGE,
    flag: '--context kind-b',
    says: 'does not belong to --cluster a',
  },
  {
    args: ['up', '--create-cluster', '--context', 'prod-admin', '--yes'],
    code: USAGE,
    flag: '--create-cluster',
    says: 'makes a kind cluster',
  },
  {
    args: ['down', '--sim', '--delete-cluster', '--yes'],
    code: USAGE,
    flag: '--delete-cluster',
    says: 'is for kind clusters',
  },
  {
    args: ['down', '--context', 'prod-admin', '--delete-cluster', '--yes'],
    code: USAGE,
    flag: '--delete-cluster',
    says: 'prod-admin is not a kind context',
  },
  // safety
  {
    args: ['up', '--context', 'prod-admin'],
    code: REFUSED,
    flag: '--context prod-admin --yes',
    says: 'Context "prod-admin" is neither a kind cluster',
  },
  {
    args: ['up', '--yes'],
    code: REFUSED,
    flag: '--context prod-admin --yes',
    says: 'is neither a kind cluster',
    state: {
      mode: 'context',
      context: 'prod-admin',
      namespace: 'multi-replica-web',
      confirmedContext: 'prod-admin',
    },
  },
  {
    args: ['down', '--delete-cluster', '--yes'],
    code: REFUSED,
    flag: '--delete-cluster',
    says: 'was not created by `npx replica-demo up --create-cluster`',
    state: { mode: 'kind', context: 'kind-kind', cluster: 'kind', namespace: 'multi-replica-web' },
  },
];

/** With the embedded cluster recorded as running: no API connection either. */
const simCases: BadInput[] = [
  { args: ['up', '--sim', '--replicas', '0'], code: USAGE, flag: '--replicas 0', says: 'range' },
  { args: ['up', '--sim', '-n', 'Bad'], code: USAGE, flag: '--namespace "Bad"', says: 'upper' },
  {
    args: ['up', '--sim', '--timeout', 'x'],
    code: USAGE,
    flag: '--timeout "x"',
    says: 'whole number',
  },
  {
    args: ['up', '--sim', '--context', 'replica-demo-sim'],
    code: USAGE,
    flag: '--sim and --context',
    says: 'cannot be used together',
  },
  {
    args: ['down', '--sim', '-n', '-x', '--yes'],
    code: USAGE,
    flag: '--namespace "-x"',
    says: 'starts with "-"',
  },
];

describe('bad input: refused before any subprocess or API call', () => {
  it.each(cases)('$args -> exit $code', async (c) => {
    const home = homeWith(c.state);
    await expectRefused(c, home, () =>
      box.runInProcess(c.args, { home, env: { KUBECONFIG: kubeconfig } }),
    );
  });

  it.each(simCases)('$args, embedded cluster running -> exit $code', async (c) => {
    await expectRefused(c, simHome, () => box.runInProcess(c.args, { home: simHome }));
  });

  // The same refusals through the real process: its exit code and its stderr.
  it.each([
    cases.find((c) => c.args.join(' ') === 'up --replicas 0'),
    cases.find((c) => c.args.join(' ') === 'up --frobnicate'),
    cases.find((c) => c.args.join(' ') === 'down --delete-cluster --yes'),
  ])('$args -> exit $code from the process', async (c) => {
    const home = homeWith(c?.state);
    await expectRefused(c!, home, () =>
      box.run(c!.args, { home, env: { KUBECONFIG: kubeconfig } }),
    );
  });

  it('the counts do count: a good command reaches the fakes and the cluster', async () => {
    const sim = await box.runInProcess(['up', '--sim'], { home: simHome });
    expect(commandLines(sim.calls).some((l) => l.startsWith('kubectl apply'))).toBe(true);
    expect(sim.code).not.toBe(0);
    const afterSim = connections;
    expect(afterSim).toBeGreaterThan(0);

    const ours = box.writeJson('ours-for-count.json', [namespaceLabelled({ [MANAGED_BY]: OURS })]);
    const kind = await box.runInProcess(['down', '--yes'], {
      home: homeWith(),
      env: { KUBECONFIG: kubeconfig, FAKE_KUBECTL_GET_FILE: ours },
    });
    expect(commandLines(kind.calls)).toContain(
      'kubectl delete namespace multi-replica-web --wait=false --context kind-kind',
    );
    expect(connections).toBeGreaterThan(afterSim);
  });
});

const MANAGED_BY = 'app.kubernetes.io/managed-by';
const OURS = 'replica-demo';

function namespaceLabelled(labels: Record<string, string>) {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: 'multi-replica-web',
      labels: { 'kubernetes.io/metadata.name': 'multi-replica-web', ...labels },
    },
  };
}

describe('down on a namespace replica-demo did not create', () => {
  const onlyLooked = [
    'kubectl version --client',
    'kubectl get namespace/multi-replica-web --namespace multi-replica-web --ignore-not-found --output json --context kind-kind',
  ];

  it.each([
    ['no managed-by label', {}],
    ['managed-by another tool', { [MANAGED_BY]: 'helm' }],
    ['an empty managed-by label', { [MANAGED_BY]: '' }],
    ['a managed-by value that only starts like ours', { [MANAGED_BY]: `${OURS}-old` }],
    ['our value as the label name, not its value', { [OURS]: MANAGED_BY }],
  ])('%s: exits 10, says so in one line, and deletes nothing', async (_, labels) => {
    const home = homeWith();
    const file = box.writeJson(`ns-${Math.random().toString(36).slice(2)}.json`, [
      namespaceLabelled(labels),
    ]);
    const before = connections;
    const r = await box.runInProcess(['down', '--yes'], {
      home,
      env: { KUBECONFIG: kubeconfig, FAKE_KUBECTL_GET_FILE: file },
    });
    expect(r.code, r.stderr).toBe(NOT_MANAGED);
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('lacks the label app.kubernetes.io/managed-by=replica-demo');
    // Only looking, never deleting.
    expect(commandLines(r.calls).filter((l) => !/^(kind|docker) /.test(l))).toEqual(onlyLooked);
    expect(connections).toBe(before);
  });

  it('through the process as well: exit 10, one line, nothing deleted', async () => {
    const foreign = box.writeJson('foreign-ns.json', [namespaceLabelled({})]);
    const r = await box.run(['down', '--yes'], { env: { FAKE_KUBECTL_GET_FILE: foreign } });
    expect(r.code, r.stderr).toBe(NOT_MANAGED);
    expect(r.stderr.split('\n').filter((l) => l.trim() !== '')).toHaveLength(1);
    expect(r.stderr).toContain('lacks the label app.kubernetes.io/managed-by=replica-demo');
    expect(commandLines(r.calls).filter((l) => !/^(kind|docker) /.test(l))).toEqual(onlyLooked);
  });
});
