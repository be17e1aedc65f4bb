import type { Probe } from '../controllers/types.js';
import type { ContainerRun } from './container.js';
import { isSupportedProbe, runProbe } from './probes.js';
import { stopContainer } from './termination.js';
import type { PodWorker } from './pod-worker.js';

/**
 * The probes of a running container, as the kubelet's prober runs them: the startup probe
 * first, then readiness (the container's `ready`) and liveness (a restart when it fails).
 */

interface ProbeState {
  successes: number;
  failures: number;
}

type OnResult = (ok: boolean, state: ProbeState, message: string) => boolean;

/** Begin probing run `runId` of `c`. */
export function startProbes(w: PodWorker, c: ContainerRun, runId: number): void {
  const { startupProbe, readinessProbe, livenessProbe } = c.spec;
  const unsupported = [startupProbe, readinessProbe, livenessProbe].some(
    (p) => p !== undefined && !isSupportedProbe(p),
  );
  if (unsupported && !w.warnedProbes) {
    w.warnedProbes = true;
    w.event(
      'Warning',
      'ProbeWarning',
      'exec and grpc probes are not supported by the embedded cluster; they are treated as passing',
      c.spec.name,
    );
  }
  if (!startupProbe) {
    c.started = true;
    afterStarted(w, c, runId);
    return;
  }
  probeLoop(w, c, runId, startupProbe, (ok, state, message) => {
    if (ok) {
      if (state.successes < (startupProbe.successThreshold ?? 1)) return true;
      c.started = true;
      w.publish();
      afterStarted(w, c, runId);
      return false;
    }
    w.event('Warning', 'Unhealthy', `Startup probe failed: ${message}`, c.spec.name);
    if (state.failures < (startupProbe.failureThreshold ?? 3)) return true;
    restartForProbe(w, c, 'startup', startupProbe);
    return false;
  });
}

function afterStarted(w: PodWorker, c: ContainerRun, runId: number): void {
  const { readinessProbe, livenessProbe } = c.spec;
  if (readinessProbe) {
    probeLoop(w, c, runId, readinessProbe, (ok, state, message) => {
      if (ok) {
        if (!c.ready && state.successes >= (readinessProbe.successThreshold ?? 1)) {
          c.ready = true;
          w.publish();
        }
        return true;
      }
      w.event('Warning', 'Unhealthy', `Readiness probe failed: ${message}`, c.spec.name);
      if (c.ready && state.failures >= (readinessProbe.failureThreshold ?? 3)) {
        c.ready = false;
        w.publish();
      }
      return true;
    });
  } else {
    c.ready = true;
    w.publish();
  }
  if (livenessProbe) {
    probeLoop(w, c, runId, livenessProbe, (ok, state, message) => {
      if (ok) return true;
      w.event('Warning', 'Unhealthy', `Liveness probe failed: ${message}`, c.spec.name);
      if (state.failures < (livenessProbe.failureThreshold ?? 3)) return true;
      restartForProbe(w, c, 'liveness', livenessProbe);
      return false;
    });
  }
}

/**
 * Run `probe` after its initial delay and then every period, while this run of the
 * container lives; `onResult` returns false to stop probing.
 */
function probeLoop(
  w: PodWorker,
  c: ContainerRun,
  runId: number,
  probe: Probe,
  onResult: OnResult,
): void {
  const state: ProbeState = { successes: 0, failures: 0 };
  const period = Math.max(1, probe.periodSeconds ?? 10) * 1000;
  const live = () => c.runId === runId && c.running() && !w.terminating && !c.stopping;
  const tick = async (): Promise<void> => {
    if (!live()) return;
    const result = await runProbe(probe, c.spec, w.podIP);
    if (!live()) return;
    if (result.ok) {
      state.successes += 1;
      state.failures = 0;
    } else {
      state.failures += 1;
      state.successes = 0;
    }
    if (onResult(result.ok, state, result.message)) c.after(period, () => void tick());
  };
  // The initial delay counts from the container's start, which may be a relist ago.
  const sinceStart = w.clock.now() - c.startedAtMs;
  c.after(Math.max(0, (probe.initialDelaySeconds ?? 0) * 1000 - sinceStart), () => void tick());
}

function restartForProbe(
  w: PodWorker,
  c: ContainerRun,
  which: 'startup' | 'liveness',
  probe: Probe,
): void {
  w.event(
    'Normal',
    'Killing',
    `Container ${c.spec.name} failed ${which} probe, will be restarted`,
    c.spec.name,
  );
  const grace = probe.terminationGracePeriodSeconds ?? w.spec.terminationGracePeriodSeconds ?? 30;
  c.stopping = 'probe';
  c.clearTimers();
  void stopContainer(w, c, w.clock.now() + grace * 1000);
}
