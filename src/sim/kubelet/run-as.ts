import { statSync, type Stats } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import type { PodSpec } from '../controllers/types.js';
import type { ContainerRun } from './container.js';

/**
 * The user a container's process runs as. A real kubelet runs it as the pod's or the
 * container's `runAsUser`/`runAsGroup`; the embedded cluster can do so only when it runs as
 * root, and only when that user can reach the programs it runs (a checkout under a private
 * home cannot be read by anyone else): otherwise the process runs as this machine's user and
 * the pod's events say why.
 */

export interface RunAs {
  uid: number;
  gid: number;
}

export type RunAsDecision =
  | { kind: 'as-is' }
  | { kind: 'switch'; user: RunAs }
  | { kind: 'cannot'; user: RunAs; why: string };

interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
}

/** The user and group the spec asks for, the container's over the pod's; none when unset. */
export function requestedUser(spec: PodSpec, c: ContainerRun): RunAs | undefined {
  const pod = (spec as { securityContext?: SecurityContext }).securityContext ?? {};
  const own = (c.spec as { securityContext?: SecurityContext }).securityContext ?? {};
  const uid = own.runAsUser ?? pod.runAsUser;
  if (uid === undefined) return undefined;
  // An image names no group here: a container's primary group is then root's, 0.
  return { uid, gid: own.runAsGroup ?? pod.runAsGroup ?? 0 };
}

const READ = 4;
const EXECUTE = 1;

/** Whether `user` has `bits` on a file of these ownership and mode, as the kernel decides. */
export function permits(stats: Pick<Stats, 'uid' | 'gid' | 'mode'>, user: RunAs, bits: number) {
  if (user.uid === 0) return true;
  const shift = stats.uid === user.uid ? 6 : stats.gid === user.gid ? 3 : 0;
  return ((stats.mode >> shift) & bits) === bits;
}

/** The first folder on the way to `file`, or `file` itself, that `user` cannot pass or use. */
export function blockedAt(file: string, user: RunAs, bits: number): string | undefined {
  const folders: string[] = [];
  for (let d = dirname(file); ; d = dirname(d)) {
    folders.unshift(d);
    if (dirname(d) === d) break;
  }
  try {
    for (const folder of folders) if (!permits(statSync(folder), user, EXECUTE)) return folder;
    return permits(statSync(file), user, bits) ? undefined : file;
  } catch {
    return file;
  }
}

/** A program named without a folder, found on PATH as spawn would. */
export function onPath(file: string): string {
  if (isAbsolute(file)) return file;
  if (file.includes('/')) return resolve(file);
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, file);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this folder
    }
  }
  return file;
}

/**
 * What to do for a container that asks for `user`, given the files its process must read
 * (`read`) and run (`run`), and the uid the embedded cluster runs as.
 */
export function decideRunAs(
  user: RunAs | undefined,
  files: { run: string[]; read: string[] },
  selfUid: number | undefined,
): RunAsDecision {
  if (user === undefined || selfUid !== 0) return { kind: 'as-is' };
  if (user.uid === 0) return { kind: 'switch', user };
  for (const [list, bits] of [
    [files.run, READ | EXECUTE],
    [files.read, READ],
  ] as const) {
    for (const file of list) {
      const path = onPath(file);
      const at = blockedAt(path, user, bits);
      if (at !== undefined)
        return {
          kind: 'cannot',
          user,
          why: `user ${user.uid} cannot ${at === path ? (bits & EXECUTE ? 'run' : 'read') : 'enter'} ${at}`,
        };
    }
  }
  return { kind: 'switch', user };
}
