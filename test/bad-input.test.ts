import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandLines, sandbox, type Sandbox } from './fakes/harness.js';

/**
 * Bad input is refused before anything runs: each case exits with its documented code,
 * prints exactly one line on stderr, and the fake docker/kind/kubectl record no call.
 */

let box: Sandbox;
beforeAll(() => {
  box = sandbox();
});
afterAll(() => box.cleanup());

const USAGE = 2;
const REFUSED = 9;

interface BadInput {
  args: string[];
  code: number;
  /** A fragment the one stderr line must hold: the flag it names, or the reason. */
  says: string;
  /** A saved state to start from. */
  state?: Record<string, unknown>;
}

const long = (n: number) => 'a'.repeat(n);

const cases: BadInput[] = [
  // --cluster: kind names (DNS-1123 labels short enough for kind's node names)
  { args: ['up', '--cluster', 'Kind'], code: USAGE, says: '--cluster "Kind" has upper-case' },
  { args: ['up', '--cluster', '-kind'], code: USAGE, says: '--cluster "-kind" starts with "-"' },
  { args: ['up', '--cluster', 'kind-'], code: USAGE, says: '--cluster "kind-" ends with "-"' },
  {
    args: ['up', '--cluster', 'my_cluster'],
    code: USAGE,
    says: '--cluster "my_cluster" has characters',
  },
  { args: ['up', '--cluster', 'a.b'], code: USAGE, says: '--cluster "a.b" has characters' },
  { args: ['up', '--cluster', ''], code: USAGE, says: '--cluster "" is empty' },
  { args: ['up', '--cluster', long(50)], code: USAGE, says: 'at most 49 characters' },
  // --namespace: DNS-1123 label
  { args: ['up', '--namespace', 'Multi'], code: USAGE, says: '--namespace "Multi" has upper-case' },
  { args: ['up', '-n', '-web'], code: USAGE, says: '--namespace "-web" starts with "-"' },
  { args: ['up', '-n', 'web-'], code: USAGE, says: '--namespace "web-" ends with "-"' },
  { args: ['up', '-n', long(64)], code: USAGE, says: 'at most 63 characters' },
  { args: ['up', '-n', 'a b'], code: USAGE, says: '--namespace "a b" has characters' },
  {
    args: ['up', '-n', 'web.lesson'],
    code: USAGE,
    says: '--namespace "web.lesson" has characters',
  },
  { args: ['down', '-n', 'Bad_Name', '--yes'], code: USAGE, says: '--namespace "Bad_Name"' },
  // --context
  { args: ['up', '--context', ''], code: USAGE, says: '--context is empty' },
  {
    args: ['up', '--context=-kind-kind'],
    code: USAGE,
    says: '--context "-kind-kind" starts with "-"',
  },
  // --replicas 1..50
  { args: ['up', '--replicas', '0'], code: USAGE, says: '--replicas 0 is out of range' },
  { args: ['up', '--replicas', '51'], code: USAGE, says: '--replicas 51 is out of range' },
  { args: ['up', '--replicas', '-1'], code: USAGE, says: '--replicas "-1" is not a whole number' },
  {
    args: ['up', '--replicas', '2.5'],
    code: USAGE,
    says: '--replicas "2.5" is not a whole number',
  },
  {
    args: ['up', '--replicas', 'five'],
    code: USAGE,
    says: '--replicas "five" is not a whole number',
  },
  {
    args: ['up', '--replicas', '1e1'],
    code: USAGE,
    says: '--replicas "1e1" is not a whole number',
  },
  { args: ['up', '--replicas', ''], code: USAGE, says: '--replicas "" is not a whole number' },
  { args: ['up', '--replicas'], code: USAGE, says: "option '--replicas <n>' argument missing" },
  // --timeout: positive whole seconds
  { args: ['up', '--timeout', '0'], code: USAGE, says: '--timeout 0 is out of range' },
  { args: ['up', '--timeout', '1.5'], code: USAGE, says: '--timeout "1.5" is not a whole number' },
  {
    args: ['up', '--timeout', '99999999'],
    code: USAGE,
    says: '--timeout 99999999 is out of range',
  },
  { args: ['down', '--timeout', 'soon', '--yes'], code: USAGE, says: '--timeout "soon"' },
  // unknown flags, commands, arguments
  { args: ['up', '--frobnicate'], code: USAGE, says: "unknown option '--frobnicate'" },
  { args: ['upp'], code: USAGE, says: "unknown command 'upp'" },
  { args: ['up', 'now'], code: USAGE, says: 'too many arguments' },
  { args: ['down', '--force'], code: USAGE, says: "unknown option '--force'" },
  // conflicting flags
  {
    args: ['up', '--sim', '--cluster', 'kind'],
    code: USAGE,
    says: '--sim and --cluster cannot be used together',
  },
  {
    args: ['up', '--sim', '--context', 'kind-kind'],
    code: USAGE,
    says: '--sim and --context cannot be used together',
  },
  { args: ['up', '--sim', '--create-cluster'], code: USAGE, says: '--sim and --create-cluster' },
  {
    args: ['up', '--no-build', '--create-cluster'],
    code: USAGE,
    says: '--no-build cannot be used with --create-cluster',
  },
  {
    args: ['up', '--cluster', 'a', '--context', 'kind-b'],
    code: USAGE,
    says: 'does not belong to --cluster a',
  },
  {
    args: ['up', '--create-cluster', '--context', 'prod-admin', '--yes'],
    code: USAGE,
    says: '--create-cluster makes a kind cluster',
  },
  {
    args: ['down', '--sim', '--delete-cluster', '--yes'],
    code: USAGE,
    says: '--delete-cluster is for kind clusters',
  },
  {
    args: ['down', '--context', 'prod-admin', '--delete-cluster', '--yes'],
    code: USAGE,
    says: 'is not a kind context',
  },
  // safety
  {
    args: ['up', '--context', 'prod-admin'],
    code: REFUSED,
    says: 'Context "prod-admin" is neither a kind cluster',
  },
  {
    args: ['up', '--yes'],
    code: REFUSED,
    says: 'replica-demo up --context prod-admin --yes',
    state: {
      mode: 'context',
      context: 'prod-admin',
      namespace: 'multi-replica-web',
      confirmedContext: 'prod-admin',
    },
  },
  { args: ['down'], code: REFUSED, says: 'pass --yes' },
  { args: ['down', '--sim'], code: REFUSED, says: 'no terminal to confirm' },
  {
    args: ['down', '--delete-cluster', '--yes'],
    code: REFUSED,
    says: 'was not created by `replica-demo up --create-cluster`',
    state: { mode: 'kind', context: 'kind-kind', cluster: 'kind', namespace: 'multi-replica-web' },
  },
];

describe('bad input: refused before any subprocess', () => {
  it('has at least 30 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases)('$args -> exit $code', async (c) => {
    let home: string | undefined;
    if (c.state) {
      home = path.join(box.dir, `state-${Math.random().toString(36).slice(2)}`);
      mkdirSync(home);
      writeFileSync(path.join(home, 'state.json'), JSON.stringify(c.state), { mode: 0o600 });
    }
    const r = await box.run(c.args, home ? { home } : {});
    expect(r.code, r.stderr).toBe(c.code);
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toContain(c.says);
    expect(r.stdout).toBe('');
    expect(commandLines(r.calls)).toEqual([]);
  });
});

describe('down on a namespace replica-demo did not create', () => {
  it('exits 10, says so in one line, and deletes nothing', async () => {
    const foreign = box.writeJson('foreign-ns.json', [
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: 'multi-replica-web',
          labels: { 'kubernetes.io/metadata.name': 'multi-replica-web' },
        },
      },
    ]);
    const r = await box.run(['down', '--yes'], { env: { FAKE_KUBECTL_GET_FILE: foreign } });
    expect(r.code, r.stderr).toBe(10);
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('lacks the label app.kubernetes.io/managed-by=replica-demo');
    // Only looking, never deleting.
    expect(commandLines(r.calls).filter((l) => !l.startsWith('kind get clusters'))).toEqual([
      'kubectl version --client',
      'kubectl get namespace/multi-replica-web --namespace multi-replica-web --ignore-not-found --output json --context kind-kind',
    ]);
  });
});

describe('bad input with the embedded cluster: no API connection either', () => {
  // A stand-in for a running embedded cluster: its state names an idle process that looks
  // like this home's daemon, and a port where a plain TCP listener counts every connection
  // the CLI opens.
  let server: net.Server;
  let connections = 0;
  let home: string;
  let daemon: ChildProcess;

  beforeAll(async () => {
    server = net.createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    home = path.join(box.dir, 'recorded-sim');
    mkdirSync(path.join(home, 'sim'), { recursive: true });
    const idle = path.join(box.dir, 'daemon.js');
    writeFileSync(idle, 'setInterval(() => undefined, 1000);\n');
    daemon = spawn(process.execPath, [idle, '--home', home], { stdio: 'ignore' });
    const state = {
      pid: daemon.pid,
      port,
      token: 't',
      startedAt: new Date().toISOString(),
      nodes: 3,
      server: `https://127.0.0.1:${port}`,
      ca: '',
    };
    writeFileSync(path.join(home, 'sim', 'state.json'), JSON.stringify(state));
    writeFileSync(
      path.join(home, 'sim', 'kubeconfig'),
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: replica-demo-sim, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]`,
        'users: [{name: replica-demo-sim, user: {token: t}}]',
        'contexts: [{name: replica-demo-sim, context: {cluster: replica-demo-sim, user: replica-demo-sim}}]',
        'current-context: replica-demo-sim',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    daemon.kill('SIGKILL');
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const simCases: BadInput[] = [
    { args: ['up', '--sim', '--replicas', '0'], code: USAGE, says: '--replicas 0' },
    { args: ['up', '--sim', '-n', 'Bad'], code: USAGE, says: '--namespace "Bad"' },
    { args: ['up', '--sim', '--timeout', 'x'], code: USAGE, says: '--timeout "x"' },
    {
      args: ['up', '--sim', '--context', 'replica-demo-sim'],
      code: USAGE,
      says: '--sim and --context',
    },
    { args: ['down', '--sim'], code: REFUSED, says: 'pass --yes' },
    { args: ['down', '--sim', '-n', '-x', '--yes'], code: USAGE, says: '--namespace "-x"' },
  ];

  it.each(simCases)('$args -> exit $code, no API connection', async (c) => {
    const r = await box.run(c.args, { home });
    expect(r.code, r.stderr).toBe(c.code);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(c.says);
    expect(r.calls).toEqual([]);
    expect(connections).toBe(0);
  });

  it('the listener does count: a good `up --sim` reaches it after the (fake) apply', async () => {
    const r = await box.run(['up', '--sim'], { home });
    expect(commandLines(r.calls).some((l) => l.startsWith('kubectl apply'))).toBe(true);
    expect(r.code).not.toBe(0);
    expect(connections).toBeGreaterThan(0);
  });
});
