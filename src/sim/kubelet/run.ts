import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { errorMessage } from '../controllers/common.js';
import type { ContainerState } from '../controllers/types.js';
import { buildCommand, type Command, type CommandOptions } from './command.js';
import type { ContainerRun } from './container.js';
import { UNKNOWN_IMAGE_MESSAGE } from './images.js';
import { startProbes } from './prober.js';
import { exitCodeOf, spawnContainer } from './process.js';
import type { PodWorker } from './pod-worker.js';
import { decideRunAs, requestedUser } from './run-as.js';
import { RELIST_PERIOD_MS } from './clock.js';
import { goDuration } from '../go-duration.js';

/**
 * Running a container and restarting it: start its process, record how it ended, and start
 * it again after a back-off when the pod's restart policy says so.
 */

/** As the kubelet backs off restarting a crashed container: 10 s doubling to 5 min. */
const BACKOFF_BASE_MS = 10_000;
const BACKOFF_CAP_MS = 300_000;
/** After running this long (10 min), a container's crash count starts over, as the kubelet's. */
const BACKOFF_RESET_MS = 2 * BACKOFF_CAP_MS;

/** The programs a container's process runs and the files it must read. */
function containerFiles(
  options: CommandOptions,
  c: ContainerRun,
  cmd: Command,
): { run: string[]; read: string[] } {
  if (c.kind !== 'server') return { run: [cmd.file], read: [] };
  return { run: [cmd.file], read: [options.serverEntry, ...serverModules(options.serverEntry)] };
}

const modulesOf = new Map<string, string[]>();

/** The file the server loads Express from, found once per server build. */
function serverModules(serverEntry: string): string[] {
  let found = modulesOf.get(serverEntry);
  if (found === undefined) {
    try {
      found = [createRequire(serverEntry).resolve('express')];
    } catch {
      found = []; // the server reports a missing module itself
    }
    modulesOf.set(serverEntry, found);
  }
  return found;
}

/**
 * Start (or restart) `c`, unless the pod is going; an image it cannot run leaves it Waiting.
 * A restart after a crash is reported, and its probes begin, at the kubelet's next relist
 * at least `reportAfterMs` from now, as the real kubelet sees its own restart only then;
 * that report also runs the readiness probe at once, as the real one triggers it.
 */
export function startContainer(
  w: PodWorker,
  c: ContainerRun,
  restart?: { reportAfterMs: number },
): void {
  if (w.terminating || w.gone) return;
  const name = c.spec.name;
  if (c.kind === 'unknown') {
    imageNotRunnable(w, c);
    return;
  }
  let cmd: Command;
  try {
    cmd = buildCommand(w.store, w.kubelet.options, w, c);
  } catch (err) {
    const message = errorMessage(err);
    c.state = { waiting: { reason: 'CreateContainerConfigError', message } };
    w.event('Warning', 'Failed', `Error: ${message}`, name);
    w.publish();
    return;
  }
  pullEvents(w, c);
  const runAs = decideRunAs(
    requestedUser(w.spec, c),
    containerFiles(w.kubelet.options, c, cmd),
    process.getuid?.(),
  );
  if (runAs.kind === 'cannot' && !c.everStarted)
    w.event(
      'Warning',
      'RunAsUserNotApplied',
      `Container ${name} runs as this machine's user, not uid ${runAs.user.uid}: ${runAs.why}`,
      name,
    );
  w.event('Normal', 'Created', `Created container: ${name}`, name);
  let proc: ChildProcess;
  try {
    proc = spawnContainer(
      cmd.file,
      cmd.args,
      cmd.env,
      tmpdir(),
      runAs.kind === 'switch' ? runAs.user : undefined,
    );
  } catch (err) {
    startFailed(w, c, errorMessage(err));
    return;
  }
  const runId = track(w, c, proc);
  w.event('Normal', 'Started', `Started container ${name}`, name);
  const report = () => {
    if (c.runId !== runId || w.terminating || w.gone) return;
    w.publish();
    if (!c.init) startProbes(w, c, runId);
  };
  if (restart) c.after(w.kubelet.untilRelist(restart.reportAfterMs), report);
  else report();
}

/**
 * An image the embedded cluster cannot run fails to pull, as a missing image does on a real
 * node: ErrImagePull, then ImagePullBackOff until the next try, 10 s doubling to 5 min.
 */
function imageNotRunnable(w: PodWorker, c: ContainerRun): void {
  const name = c.spec.name;
  const image = c.spec.image ?? '';
  c.pullFailures += 1;
  c.state = { waiting: { reason: 'ErrImagePull', message: UNKNOWN_IMAGE_MESSAGE } };
  w.event('Normal', 'Pulling', `Pulling image "${image}"`, name);
  w.event('Warning', 'Failed', `Failed to pull image "${image}": ${UNKNOWN_IMAGE_MESSAGE}`, name);
  w.event('Warning', 'Failed', 'Error: ErrImagePull', name);
  w.publish();
  // The kubelet's next sync of the pod finds the pull backing off.
  c.after(PULL_RESYNC_MS, () => {
    if (w.terminating || w.gone) return;
    c.state = {
      waiting: {
        reason: 'ImagePullBackOff',
        message: `Back-off pulling image "${image}": ErrImagePull: ${UNKNOWN_IMAGE_MESSAGE}`,
      },
    };
    w.event('Normal', 'BackOff', `Back-off pulling image "${image}"`, name);
    w.event('Warning', 'Failed', 'Error: ImagePullBackOff', name);
    w.publish();
    c.after(crashBackOffMs(c.pullFailures + 1), () => startContainer(w, c));
  });
}

/** How soon after a failed pull the kubelet syncs the pod again and reports the back-off. */
const PULL_RESYNC_MS = 1000;

/** The image events the real kubelet records: a pull on the first start with `Always`. */
function pullEvents(w: PodWorker, c: ContainerRun): void {
  const name = c.spec.name;
  const image = c.spec.image ?? '';
  const pullPolicy = (c.spec as { imagePullPolicy?: string }).imagePullPolicy;
  if (!c.everStarted && pullPolicy === 'Always') {
    w.event('Normal', 'Pulling', `Pulling image "${image}"`, name);
    w.event(
      'Normal',
      'Pulled',
      `Successfully pulled image "${image}" in 0s (0s including waiting). Image size: 0 bytes.`,
      name,
    );
    return;
  }
  w.event('Normal', 'Pulled', `Container image "${image}" already present on machine`, name);
}

/** Record a fresh run of `c` and follow its output and exit; returns the run's id. */
function track(w: PodWorker, c: ContainerRun, proc: ChildProcess): number {
  c.runId += 1;
  const runId = c.runId;
  if (c.everStarted) c.restartCount += 1;
  c.everStarted = true;
  c.proc = proc;
  c.stopping = undefined;
  c.ready = false;
  c.started = false;
  c.startedAtMs = w.clock.now();
  c.containerID = `sim://${Math.floor(w.kubelet.options.random() * 2 ** 52)
    .toString(16)
    .padStart(13, '0')}${w.clock.now().toString(16)}`;
  c.state = { running: { startedAt: w.clock.timestamp() } };
  c.log = w.kubelet.logs.start(w.pod.metadata.uid, c.spec.name);
  c.armExit();
  const log = c.log;
  proc.stdout?.setEncoding('utf8');
  proc.stderr?.setEncoding('utf8');
  proc.stdout?.on('data', (chunk: string) => log.write('stdout', chunk));
  proc.stderr?.on('data', (chunk: string) => log.write('stderr', chunk));
  let spawnError: Error | undefined;
  proc.once('error', (err) => {
    spawnError = err;
    // A process that never started emits no 'close' of its own on every Node version.
    if (proc.pid === undefined) onExit(w, c, runId, null, null, err);
  });
  // 'close' (not 'exit'): the output is complete only once the pipes have closed.
  proc.once('close', (code, signal) => {
    const handle = () => onExit(w, c, runId, code, signal, spawnError);
    // An exit the kubelet caused is known at once (its stop call returns); one it did not
    // cause, only at its next relist: until then the pod stays as it was, Ready included.
    if (spawnError !== undefined || c.stopping !== undefined || w.terminating || w.gone) handle();
    else c.exitUnnoticed(w.kubelet.untilRelist(), handle);
  });
  return runId;
}

function startFailed(w: PodWorker, c: ContainerRun, message: string): void {
  c.state = { waiting: { reason: 'RunContainerError', message } };
  w.event('Warning', 'Failed', `Error: ${message}`, c.spec.name);
  w.publish();
}

function terminatedState(
  w: PodWorker,
  c: ContainerRun,
  code: number | null,
  signal: NodeJS.Signals | null,
  error: Error | undefined,
): ContainerState {
  const exitCode = error && code === null && signal === null ? 128 : exitCodeOf(code, signal);
  const startedAt = c.state.running?.startedAt;
  return {
    terminated: {
      exitCode,
      reason: error ? 'StartError' : exitCode === 0 ? 'Completed' : 'Error',
      ...(error ? { message: error.message } : {}),
      ...(startedAt ? { startedAt } : {}),
      finishedAt: w.clock.timestamp(),
      ...(c.containerID ? { containerID: c.containerID } : {}),
    },
  };
}

function onExit(
  w: PodWorker,
  c: ContainerRun,
  runId: number,
  code: number | null,
  signal: NodeJS.Signals | null,
  error: Error | undefined,
): void {
  if (c.runId !== runId || !c.proc) return;
  c.proc = undefined;
  c.clearTimers();
  if (c.killTimer) clearTimeout(c.killTimer);
  c.killTimer = undefined;
  c.killAt = Infinity;
  c.log?.end();
  const terminated = terminatedState(w, c, code, signal, error);
  const exitCode = terminated.terminated?.exitCode ?? 0;
  c.ready = false;
  c.started = false;
  c.markExited();
  if (w.terminating || w.gone) {
    c.state = terminated;
    if (!w.gone) w.publish();
    return;
  }
  const policy = w.spec.restartPolicy ?? 'Always';
  // A failed init container is retried unless the pod never restarts anything.
  const restart = c.init
    ? exitCode !== 0 && policy !== 'Never'
    : policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
  if (!restart) {
    c.state = terminated;
    if (c.init && exitCode === 0) c.ready = true;
    w.publish();
    if (c.init && exitCode === 0) w.initSucceeded(c);
    else w.releaseAddressIfDone();
    return;
  }
  restartAfterBackOff(w, c, terminated);
}

/** How long the kubelet waits before restarting a container after its `crashes`-th crash. */
export function crashBackOffMs(crashes: number): number {
  return crashes <= 1 ? 0 : Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (crashes - 2));
}

/**
 * The first crash restarts at once, in the same pod: the exit is reported first (terminated,
 * the pod not Ready, so the endpoints drop it), then the container runs again. A repeated
 * crash waits in CrashLoopBackOff, 10 s doubling to BACKOFF_CAP_MS.
 */
function restartAfterBackOff(w: PodWorker, c: ContainerRun, terminated: ContainerState): void {
  if (w.clock.now() - c.startedAtMs >= BACKOFF_RESET_MS) c.crashes = 0;
  c.crashes += 1;
  const delay = crashBackOffMs(c.crashes);
  if (delay === 0) {
    c.state = terminated;
    w.publish();
    c.lastState = terminated;
    // Called at the relist that noticed the crash: the restart is seen by the one after.
    startContainer(w, c, { reportAfterMs: RELIST_PERIOD_MS / 2 });
    return;
  }
  c.lastState = terminated;
  const podRef = w.podRef();
  c.state = {
    waiting: {
      reason: 'CrashLoopBackOff',
      message: `back-off ${goDuration(BigInt(delay) * 1_000_000n)} restarting failed container=${c.spec.name} pod=${podRef}`,
    },
  };
  w.event(
    'Warning',
    'BackOff',
    `Back-off restarting failed container ${c.spec.name} in pod ${podRef}`,
    c.spec.name,
  );
  w.publish();
  c.after(delay, () => startContainer(w, c, { reportAfterMs: 0 }));
}
