import { describe, expect, it } from 'vitest';
import { Store } from '../src/sim/store.js';
import { claimAddressBlock } from '../src/sim/address-block.js';
import { seededRandom } from '../src/sim/random.js';
import { Kubelet } from '../src/sim/kubelet/kubelet.js';
import { LogBook } from '../src/sim/kubelet/logs.js';
import { PODS } from '../src/sim/controllers/common.js';
import { statusOf, type Condition, type ContainerStatus } from '../src/sim/controllers/types.js';

interface PodStatus {
  phase: string;
  startTime: string;
  conditions: Condition[];
  containerStatuses: ContainerStatus[];
}

describe('kubelet clock', () => {
  it('writes every time in pod status from its one clock, not the store or the machine', async () => {
    // A clock far from the machine's: any time read elsewhere would show.
    const kubeletNow = new Date('2001-02-03T04:05:06Z');
    const stamp = '2001-02-03T04:05:06Z';
    const store = new Store();
    const block = await claimAddressBlock();
    const kubelet = new Kubelet(store, new LogBook(store, () => kubeletNow), {
      nodeNames: ['replica-demo-control-plane'],
      addressOctet: block.octet,
      serverEntry: '/nonexistent',
      nodeBinary: process.execPath,
      curlBinary: 'curl',
      random: seededRandom('kubelet-clock'),
      now: () => new Date(kubeletNow),
      log: () => undefined,
      serviceTarget: () => undefined,
    });
    kubelet.start();
    try {
      store.create(PODS, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'once', namespace: 'default' },
        spec: {
          nodeName: 'replica-demo-control-plane',
          restartPolicy: 'Never',
          containers: [{ name: 'c', image: 'curlimages/curl:8.11.1', args: ['--version'] }],
        },
      });
      let status: Partial<PodStatus> = {};
      for (let i = 0; i < 200 && status.phase !== 'Succeeded'; i += 1) {
        await new Promise((r) => setTimeout(r, 25));
        status = statusOf<PodStatus>(store.mustGet(PODS, 'default', 'once'));
      }
      expect(status.phase).toBe('Succeeded');
      expect(status.startTime).toBe(stamp);
      for (const c of status.conditions ?? []) expect(c.lastTransitionTime).toBe(stamp);
      const terminated = status.containerStatuses?.[0]?.state.terminated;
      expect(terminated).toMatchObject({ exitCode: 0, startedAt: stamp, finishedAt: stamp });
    } finally {
      await kubelet.stop();
      block.release();
    }
  });
});
