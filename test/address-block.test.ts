import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimAddressBlock, FIRST_BLOCK } from '../src/sim/address-block.js';

describe('claimAddressBlock', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rd-blocks-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('gives two live clusters different blocks', () => {
    const a = claimAddressBlock({ dir, start: 0 });
    const b = claimAddressBlock({ dir, start: 0, pid: process.ppid });
    expect(a.octet).toBe(FIRST_BLOCK);
    expect(b.octet).not.toBe(a.octet);
    expect(readFileSync(path.join(dir, String(a.octet)), 'utf8').trim()).toBe(String(process.pid));
  });

  it('takes over a block whose owner is gone, and frees it on release', () => {
    // A pid far above pid_max's default cannot be alive.
    writeFileSync(path.join(dir, String(FIRST_BLOCK)), '99999999\n');
    const block = claimAddressBlock({ dir, start: 0 });
    expect(block.octet).toBe(FIRST_BLOCK);
    block.release();
    expect(() => readFileSync(path.join(dir, String(FIRST_BLOCK)))).toThrow();
  });

  it('does not free a block another cluster has taken over', () => {
    const block = claimAddressBlock({ dir, start: 0 });
    writeFileSync(path.join(dir, String(block.octet)), `${process.ppid}\n`);
    block.release();
    expect(readFileSync(path.join(dir, String(block.octet)), 'utf8').trim()).toBe(
      String(process.ppid),
    );
  });
});
