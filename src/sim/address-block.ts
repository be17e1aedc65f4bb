import { chmodSync, lstatSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Each running embedded cluster owns one second octet B of 127.0.0.0/8: its pods live at
 * 127.B.<node>.<n> and its Services at 127.B.<100+k>.<n>. Two clusters on one machine (two
 * users, or test files running side by side) would otherwise hand out the same pod address,
 * and a probe sent to one cluster's pod would be answered by the other's.
 *
 * The claim is a file named after the octet in a machine-wide folder, holding the owner's
 * pid; a claim whose owner is gone is taken over.
 */

export const FIRST_BLOCK = 16;
export const LAST_BLOCK = 250;
/** The octet used when no block was claimed (a runtime inside a test, say). */
export const DEFAULT_ADDRESS_OCTET = 10;
/** Third octets below this are nodes' pod ranges; from it on, Service addresses. */
export const SERVICE_THIRD_OCTET = 100;

export interface AddressBlock {
  readonly octet: number;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function claimAddressBlock(
  options: { dir?: string; pid?: number; start?: number } = {},
): AddressBlock {
  const dir = options.dir ?? path.join(os.tmpdir(), 'replica-demo-sim-addresses');
  const pid = options.pid ?? process.pid;
  mkdirSync(dir, { recursive: true, mode: 0o1777 });
  // The umask trims the mode at creation; every user's clusters claim blocks in this folder.
  if (lstatSync(dir).uid === process.getuid?.()) chmodSync(dir, 0o1777);
  const span = LAST_BLOCK - FIRST_BLOCK + 1;
  const start = options.start ?? Math.floor(Math.random() * span);
  for (let i = 0; i < span; i += 1) {
    const octet = FIRST_BLOCK + ((start + i) % span);
    const file = path.join(dir, String(octet));
    if (tryClaim(file, pid)) {
      return {
        octet,
        release: () => {
          if (ownerOf(file) === pid) rmSync(file, { force: true });
        },
      };
    }
  }
  throw new Error(
    `every 127.x address block is taken by another running embedded cluster (${dir}); stop one with \`replica-demo sim stop\``,
  );
}

function ownerOf(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function tryClaim(file: string, pid: number): boolean {
  try {
    writeFileSync(file, `${pid}\n`, { flag: 'wx', mode: 0o644 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const owner = ownerOf(file);
  if (owner !== undefined && owner !== pid && alive(owner)) return false;
  // The owner is gone: take the claim over. Remove and re-create exclusively, so that of two
  // takers only one wins. Another user's stale claim cannot be removed (sticky folder): skip it.
  try {
    rmSync(file, { force: true });
  } catch {
    return false;
  }
  try {
    writeFileSync(file, `${pid}\n`, { flag: 'wx', mode: 0o644 });
    return true;
  } catch {
    return false;
  }
}
