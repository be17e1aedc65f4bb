import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSimRunning } from '../src/cli/sim-control.js';
import { makeLab, NAMESPACE, type Lab } from './blast-support.js';

let lab: Lab;

beforeAll(() => {
  lab = makeLab('tour-tests');
});

afterAll(async () => {
  await lab?.close();
}, 120_000);

describe('tour', () => {
  it('runs the whole lesson on the embedded cluster, start to end', async () => {
    const result = await lab.run(['tour', '--sim'], 480_000);
    expect(result.exitCode, result.stderr.slice(-2000)).toBe(0);
    expect(result.stdout).toContain('Using the embedded cluster');
    for (let step = 1; step <= 7; step += 1) expect(result.stdout).toContain(`Step ${step} of 7`);
    expect(result.stdout).toContain('Through the Service');
    expect(result.stdout).toContain('Through port-forward');
    expect(result.stdout).toContain('Keep-alive');
    expect(result.stdout).toMatch(/Back to 5\/5 ready in/);
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
    const stderr = String(result.stderr);
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
});
