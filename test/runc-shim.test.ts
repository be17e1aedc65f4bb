import { execa } from 'execa';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The runc wrapper of the real-cluster script is Go; its own tests (argument parsing as
 * containerd's shim and dockerd call runc, the capability edit, finding the real runc) run
 * here so the default suite covers them.
 */
const dir = path.resolve(import.meta.dirname, '../scripts/kind/runc-shim');
const hasGo = (await execa('go', ['version'], { reject: false })).exitCode === 0;

describe.skipIf(!hasGo)(hasGo ? 'runc-shim' : 'runc-shim (skipped: Go is not installed)', () => {
  it('passes its Go tests', async () => {
    const r = await execa('go', ['test', '-count=1', './...'], {
      cwd: dir,
      reject: false,
      env: { GOFLAGS: '-mod=mod' },
      timeout: 300_000,
    });
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/^ok\s+replica-demo\.local\/runc-shim/m);
  }, 300_000);
});
