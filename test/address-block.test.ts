import { spawn } from 'node:child_process';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  claimAddress,
  claimAddressBlock,
  FIRST_BLOCK,
  type AddressBlock,
} from '../src/sim/address-block.js';

/**
 * Blocks are claimed by listening sockets. These tests claim on a port of their own, so a
 * real embedded cluster running beside them is neither disturbed nor in the way.
 */
const port = 40_000 + (process.pid % 5000);

describe('claimAddressBlock', () => {
  const held: { close(): void }[] = [];
  const hold = (block: AddressBlock) => {
    held.push({ close: () => block.release() });
    return block;
  };
  afterEach(() => {
    for (const h of held.splice(0)) h.close();
  });

  it('gives two live clusters different blocks', async () => {
    const a = hold(await claimAddressBlock({ start: 0, port }));
    const b = hold(await claimAddressBlock({ start: 0, port }));
    expect(a.octet).toBe(FIRST_BLOCK);
    expect(b.octet).toBe(FIRST_BLOCK + 1);
  });

  it('frees the block on release', async () => {
    const block = await claimAddressBlock({ start: 0, port });
    block.release();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const again = hold(await claimAddressBlock({ start: 0, port }));
    expect(again.octet).toBe(block.octet);
  });

  it('skips a block where anything else listens, whoever owns it', async () => {
    const other = net.createServer();
    await new Promise<void>((resolve) => other.listen(port, claimAddress(FIRST_BLOCK), resolve));
    held.push({ close: () => other.close() });
    const block = hold(await claimAddressBlock({ start: 0, port }));
    expect(block.octet).toBe(FIRST_BLOCK + 1);
  });

  it('frees the block of a process that was killed: no stale claim is left anywhere', async () => {
    const script = `
      import(${JSON.stringify(new URL('../src/sim/address-block.ts', import.meta.url).href)})
        .then((m) => m.claimAddressBlock({ start: 0, port: ${port} }))
        .then((b) => { console.log(b.octet); setInterval(() => {}, 1000); });`;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const octet = await new Promise<number>((resolve) =>
      child.stdout.once('data', (chunk: Buffer) => resolve(Number(String(chunk).trim()))),
    );
    expect(octet).toBe(FIRST_BLOCK);
    const taken = hold(await claimAddressBlock({ start: 0, port }));
    expect(taken.octet).toBe(FIRST_BLOCK + 1);
    taken.release();
    held.pop();
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const freed = hold(await claimAddressBlock({ start: 0, port }));
    expect(freed.octet).toBe(FIRST_BLOCK);
  });
});
