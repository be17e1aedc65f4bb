import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

let setprivPath: string | null | undefined;

/** `setpriv` (util-linux) if present: it makes the kernel kill a pod when the daemon dies. */
export function findSetpriv(): string | null {
  if (setprivPath !== undefined) return setprivPath;
  setprivPath = null;
  if (process.platform !== 'linux') return setprivPath;
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    const candidate = join(dir, 'setpriv');
    try {
      accessSync(candidate, constants.X_OK);
      setprivPath = candidate;
      break;
    } catch {
      // not in this directory
    }
  }
  return setprivPath;
}

/**
 * Start a container's process in its own process group (so the whole group can be
 * signalled) and, where `setpriv` exists, with a parent-death signal of SIGKILL.
 */
export function spawnContainer(
  file: string,
  args: string[],
  env: Record<string, string>,
  cwd: string,
  user?: { uid: number; gid: number },
): ChildProcess {
  const setpriv = findSetpriv();
  const [cmd, argv] = setpriv
    ? [setpriv, ['--pdeathsig', 'KILL', '--', file, ...args]]
    : [file, args];
  // With a uid and gid the process also drops this machine's supplementary groups.
  return spawn(cmd, argv, {
    env,
    cwd,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(user ?? {}),
  });
}

/** Signal the process group; false when it is already gone. */
export function signalGroup(pid: number | undefined, signal: NodeJS.Signals): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

const SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGKILL: 9,
  SIGTERM: 15,
  SIGABRT: 6,
  SIGSEGV: 11,
};

/** The exit code a container runtime reports: the code, or 128 + the signal number. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? (SIGNALS[signal] ?? 0) : 0);
}
