import { PODS, podCondition } from '../controllers/common.js';
import { statusOf, type Condition, type ContainerStatus } from '../controllers/types.js';
import type { ContainerRun } from './container.js';
import { fullImageName, imageID } from './images.js';
import type { PodWorker } from './pod-worker.js';

/** The pod's status as the kubelet reports it: phase, conditions and container statuses. */

export function podPhase(w: PodWorker): string {
  const policy = w.spec.restartPolicy ?? 'Always';
  if (!w.initDone) {
    const failed = w.inits.some(
      (c) => c.state.terminated !== undefined && c.state.terminated.exitCode !== 0,
    );
    return failed && policy === 'Never' && !w.inits.some((c) => c.running()) ? 'Failed' : 'Pending';
  }
  const states = w.containers.map((c) => c.state);
  const allTerminated = states.length > 0 && states.every((s) => s.terminated !== undefined);
  if (allTerminated && (policy !== 'Always' || w.terminating)) {
    if (w.terminating) return statusOf<{ phase: string }>(w.pod).phase ?? 'Running';
    return states.every((s) => s.terminated?.exitCode === 0) ? 'Succeeded' : 'Failed';
  }
  if (w.containers.some((c) => c.running() || c.everStarted)) return 'Running';
  return 'Pending';
}

/** A condition whose lastTransitionTime moves only when its status does. */
function condition(
  w: PodWorker,
  type: string,
  status: string,
  extra: Partial<Condition> = {},
): Condition {
  const now = w.clock.timestamp();
  const before = w.transitions.get(type);
  const fromPod = podCondition(w.pod, type);
  let time = before?.status === status ? before.time : now;
  if (!before && fromPod?.status === status && fromPod.lastTransitionTime)
    time = fromPod.lastTransitionTime;
  w.transitions.set(type, { status, time });
  return { type, status, lastProbeTime: null, lastTransitionTime: time, ...extra };
}

function conditions(w: PodWorker, terminal: boolean): Condition[] {
  const unready = w.containers.filter((c) => !c.ready).map((c) => c.spec.name);
  const ready = unready.length === 0 && !terminal;
  const notReady: Partial<Condition> = terminal
    ? { reason: 'PodCompleted' }
    : {
        reason: 'ContainersNotReady',
        message: `containers with unready status: [${unready.join(' ')}]`,
      };
  const scheduled = podCondition(w.pod, 'PodScheduled');
  return [
    condition(w, 'PodReadyToStartContainers', terminal ? 'False' : 'True'),
    w.initDone
      ? condition(w, 'Initialized', 'True')
      : condition(w, 'Initialized', 'False', {
          reason: 'ContainersNotInitialized',
          message: `containers with incomplete status: [${w.inits
            .filter((c) => !c.ready)
            .map((c) => c.spec.name)
            .join(' ')}]`,
        }),
    condition(w, 'Ready', ready ? 'True' : 'False', ready ? {} : notReady),
    condition(w, 'ContainersReady', ready ? 'True' : 'False', ready ? {} : notReady),
    {
      type: 'PodScheduled',
      status: 'True',
      lastProbeTime: null,
      lastTransitionTime: scheduled?.lastTransitionTime ?? w.startTime,
    },
  ];
}

function containerStatus(c: ContainerRun): ContainerStatus {
  return {
    name: c.spec.name,
    state: c.state,
    lastState: c.lastState,
    ready: c.ready,
    restartCount: c.restartCount,
    image: fullImageName(c.spec.image ?? ''),
    imageID: c.kind === 'unknown' || !c.everStarted ? '' : imageID(c.spec.image ?? ''),
    ...(c.containerID ? { containerID: c.containerID } : {}),
    started: c.started && c.running(),
  };
}

/** Write the pod's status, unless the pod is gone; `w.pod` follows what was written. */
export function publishStatus(w: PodWorker): void {
  if (w.gone) return;
  const phase = podPhase(w);
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const containerStatuses = w.containers.map(containerStatus);
  const initContainerStatuses = w.inits.map(containerStatus);
  const qosClass = statusOf<{ qosClass: string }>(w.pod).qosClass;
  const status = {
    phase,
    conditions: conditions(w, terminal),
    hostIP: w.hostIP,
    hostIPs: [{ ip: w.hostIP }],
    ...(w.podIP ? { podIP: w.podIP, podIPs: [{ ip: w.podIP }] } : {}),
    startTime: w.startTime,
    ...(initContainerStatuses.length > 0 ? { initContainerStatuses } : {}),
    containerStatuses,
    ...(qosClass ? { qosClass } : {}),
  };
  const { namespace, name, uid } = w.pod.metadata;
  try {
    const updated = w.store.update(PODS, namespace, name, (o) => {
      if (o.metadata.uid !== uid) return false;
      o.status = status;
    });
    if (updated.metadata.uid === uid) w.pod = updated;
  } catch {
    // The pod was removed meanwhile: the watch brings its DELETED event.
  }
}
