import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLab, type Lab } from './blast-support.js';

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
  }, 600_000);
});
