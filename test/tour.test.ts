import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSimRunning } from '../src/cli/sim-control.js';
import { makeLab, NAMESPACE, tableRows, type Lab } from './blast-support.js';

/** The tour's stdout cut at its step headings: steps[n] is the text of step n (0: before). */
function steps(stdout: string): string[] {
  return stdout.split(/^Step \d of 7: /m);
}

const sum = (rows: { count: number }[]) => rows.reduce((total, r) => total + r.count, 0);
const reached = (rows: { pod: string; count: number }[]) =>
  rows.filter((r) => r.count > 0).map((r) => r.pod);

let lab: Lab;

beforeAll(() => {
  lab = makeLab('tour-tests');
});

afterAll(async () => {
  await lab?.close();
}, 120_000);

/** `tour --sim`, with one Ctrl-C as soon as step 3 begins. */
async function tourInterruptedAtStep3() {
  const child = lab.spawn(['tour', '--sim']);
  let stdout = '';
  let interrupted = false;
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (!interrupted && stdout.includes('Step 3 of 7')) {
      interrupted = true;
      child.kill('SIGINT');
    }
  });
  const result = await child;
  return { stdout, stderr: String(result.stderr), interrupted, result };
}

describe('tour', () => {
  it('runs the whole lesson on the embedded cluster, start to end', async () => {
    const result = await lab.run(['tour', '--sim'], 480_000);
    expect(result.exitCode, result.stderr.slice(-2000)).toBe(0);
    expect(result.stdout).toContain('Using the embedded cluster');
    const step = steps(result.stdout);
    expect(step).toHaveLength(8);
    for (let n = 1; n <= 7; n += 1) expect(result.stdout).toContain(`Step ${n} of 7`);

    // 1: five ready replicas.
    const replicas = step[1]!
      .split('\n')
      .filter((l) => l.startsWith('web-server-deployment-'))
      .map((l) => l.split(/\s+/));
    expect(replicas).toHaveLength(5);
    for (const row of replicas) expect(row[4]).toBe('1/1');
    const pods = replicas.map((row) => row[0]!).sort();

    // 2: twenty requests spread by the Service; all twenty to the one port-forward pod.
    const service20 = tableRows(step[2]!, 'Through the Service');
    expect(service20.map((r) => r.pod).sort()).toEqual(pods);
    expect(sum(service20)).toBe(20);
    expect(reached(service20).length).toBeGreaterThan(1);
    const forwarded = /^Through port-forward \(to pod (\S+)\):/m.exec(step[2]!)?.[1];
    expect(pods).toContain(forwarded);
    const portForward = tableRows(step[2]!, 'Through port-forward');
    expect(reached(portForward)).toEqual([forwarded]);
    expect(sum(portForward)).toBe(20);

    // 3: two hundred requests reach every pod, and the verdict is worked out on them.
    const service200 = tableRows(step[3]!, 'Through the Service');
    expect(sum(service200)).toBe(200);
    expect(reached(service200).sort()).toEqual(pods);
    expect(step[3]).toContain('total 200 requests, 200 answered by a pod, 0 errors');
    expect(step[3]).toMatch(/\(chi-square [\d.]+, p [=<] [\d.]+\)/);

    // 4: one kept-alive connection, one pod.
    expect(step[4]).toContain('Through the Service (one kept-alive connection;');
    const keptAlive = tableRows(step[4]!, 'Through the Service');
    expect(sum(keptAlive)).toBe(20);
    expect(reached(keptAlive)).toHaveLength(1);
    expect(step[4]).toContain('(1 pod reached)');

    // 5: one of the five killed and replaced by a new pod.
    const kill = /Back to 5\/5 ready in [\d.]+ s; (\S+) took the place of (\S+) on /.exec(step[5]!);
    expect(kill, step[5]).not.toBeNull();
    const [, replacement, killed] = kill!;
    expect(pods).toContain(killed);
    expect(pods).not.toContain(replacement);
    expect(step[5]).toContain(`Killing ${killed!};`);

    // 6: the five after the kill: the replacement in, the killed pod out.
    const afterKill = tableRows(step[6]!, 'Through the Service');
    expect(afterKill.map((r) => r.pod).sort()).toEqual(
      [...pods.filter((p) => p !== killed), replacement!].sort(),
    );
    expect(sum(afterKill)).toBe(20);

    // 7: the namespace and the cluster the tour started are gone.
    expect(result.stderr).toMatch(/Deleted namespace multi-replica-web/);
    expect(result.stderr).toContain('Stopped the embedded cluster');
    // Step 7 removed the namespace, so the Service is gone.
    const after = await lab.run(['blast', '--sim', '--count', '1', '--via', 'service']);
    expect(after.exitCode).not.toBe(0);
    expect(after.stderr).toMatch(/not found|not running/);
    // The tour started the embedded cluster, so step 7 stopped it.
    expect(isSimRunning(lab.home)).toBe(false);
  }, 600_000);

  it('on Ctrl-C removes what it made, keeps a cluster that ran before it, and exits 130', async () => {
    const started = await lab.run(['sim', 'start'], 120_000);
    expect(started.exitCode, started.stderr).toBe(0);
    expect(isSimRunning(lab.home)).toBe(true);

    const { stdout, stderr, interrupted, result } = await tourInterruptedAtStep3();
    expect(interrupted, stdout.slice(-2000)).toBe(true);
    expect(result.exitCode, stderr.slice(-2000)).toBe(130);
    expect(stdout).not.toContain('Step 4 of 7');
    expect(stderr).toContain(`Cleaned up: namespace ${NAMESPACE} on the embedded cluster removed.`);

    const { core } = lab.clients();
    const namespaces = await core.listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).not.toContain(NAMESPACE);
    // It was running before the tour, so the tour left it running.
    expect(isSimRunning(lab.home)).toBe(true);
  }, 300_000);

  it('leaves a lesson the user put up before it, on Ctrl-C as at the end', async () => {
    // The embedded cluster still runs from the test before; the user's own `up`.
    const up = await lab.run(['up', '--sim'], 240_000);
    expect(up.exitCode, up.stderr).toBe(0);

    const { stderr, result } = await tourInterruptedAtStep3();
    expect(result.exitCode, stderr.slice(-2000)).toBe(130);
    expect(stderr).toContain(`Left as it was: namespace ${NAMESPACE} was there before the tour`);
    expect(stderr).not.toContain('Cleaned up');
    const { core } = lab.clients();
    const pods = await core.listNamespacedPod({
      namespace: NAMESPACE,
      labelSelector: 'app=web-server',
    });
    expect(pods.items.filter((p) => !p.metadata?.deletionTimestamp)).toHaveLength(5);
  }, 300_000);

  it('on a second Ctrl-C during its clean-up stops at once and says what is left, and how to remove it', async () => {
    // The lesson the test before left is removed first, so the tour makes its own.
    const down = await lab.run(['down', '--sim', '--keep-cluster', '--yes'], 120_000);
    expect(down.exitCode, down.stderr).toBe(0);

    const child = lab.spawn(['tour', '--sim']);
    let stdout = '';
    let stderr = '';
    let signals = 0;
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (signals === 0 && stdout.includes('Step 3 of 7')) {
        signals = 1;
        child.kill('SIGINT');
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (signals === 1 && stderr.includes('removing what it made')) {
        signals = 2;
        child.kill('SIGINT');
      }
    });
    const result = await child;
    expect(signals).toBe(2);
    expect(result.exitCode).toBe(130);
    const last = stderr.trim().split('\n').at(-1) ?? '';
    // The embedded cluster goes in the list only when the tour started it.
    const said =
      /^Stopped at once, without cleaning up\. Left behind: namespace multi-replica-web (?:on|and) the embedded cluster \(`npx replica-demo (down --sim[^`]*)` removes it\)\.$/.exec(
        last,
      );
    expect(said, last).not.toBeNull();
    // What it names is there, and the command it gives removes it.
    const remove = await lab.run((said?.[1] ?? '').split(' '), 120_000);
    expect(remove.exitCode, remove.stderr).toBe(0);
    expect(remove.stderr).toContain(`Deleted namespace ${NAMESPACE}`);
  }, 300_000);

  it('with --step waits for Enter before each step; Ctrl-C at the prompt cleans up (exit 130)', async () => {
    const child = lab.spawn(['tour', '--sim', '--step'], 'pipe');
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const until = async (check: () => boolean, what: string) => {
      for (let waited = 0; !check(); waited += 100) {
        if (waited > 240_000) throw new Error(`no ${what} in:\n${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    await until(() => stderr.includes('Press Enter for step 2 of 7'), 'prompt for step 2');
    // Nothing of step 2 runs until Enter.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(stdout).toContain('Step 1 of 7');
    expect(stdout).not.toContain('Step 2 of 7');
    child.stdin?.write('\n');
    await until(() => stderr.includes('Press Enter for step 3 of 7'), 'prompt for step 3');
    expect(tableRows(steps(stdout)[2]!, 'Through the Service')).toHaveLength(5);
    expect(stdout).not.toContain('Step 3 of 7');
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(stderr).toMatch(/Cleaned up: namespace multi-replica-web .*removed\./);
    const { core } = lab.clients();
    const namespaces = await core.listNamespace().catch(() => ({ items: [] }));
    expect(namespaces.items.map((n) => n.metadata?.name)).not.toContain(NAMESPACE);
  }, 300_000);
});
