import { chmodSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from '../src/sim/store.js';
import { claimAddressBlock } from '../src/sim/address-block.js';
import { seededRandom } from '../src/sim/random.js';
import { Kubelet } from '../src/sim/kubelet/kubelet.js';
import { LogBook } from '../src/sim/kubelet/logs.js';
import { EVENTS, PODS } from '../src/sim/controllers/common.js';
import { ensureSystemNamespaces } from '../src/sim/defaults.js';
import { decideRunAs, onPath, permits } from '../src/sim/kubelet/run-as.js';
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

const asRoot = process.getuid?.() === 0;

describe('runAsUser', () => {
  it('decides from the modes on the way to each file whether the user can reach it', () => {
    const user = { uid: 10001, gid: 10001 };
    expect(permits({ uid: 0, gid: 0, mode: 0o40755 }, user, 1)).toBe(true);
    expect(permits({ uid: 0, gid: 0, mode: 0o40700 }, user, 1)).toBe(false);
    expect(permits({ uid: 10001, gid: 0, mode: 0o40700 }, user, 1)).toBe(true);
    expect(permits({ uid: 0, gid: 10001, mode: 0o40750 }, user, 1)).toBe(true);
    expect(permits({ uid: 0, gid: 0, mode: 0o100640 }, user, 4)).toBe(false);
    expect(decideRunAs(user, { run: [process.execPath], read: [] }, 1000)).toEqual({
      kind: 'as-is',
    });
    expect(decideRunAs(undefined, { run: [process.execPath], read: [] }, 0)).toEqual({
      kind: 'as-is',
    });
  });

  it.skipIf(!asRoot)(
    "runs a container's process as its runAsUser and runAsGroup, or says why it cannot",
    async () => {
      const open = mkdtempSync(join(tmpdir(), 'run-as-'));
      chmodSync(open, 0o777);
      // A folder only root may enter, holding the program: user 10001 cannot run it from there.
      const closed = mkdtempSync(join(tmpdir(), 'run-as-closed-'));
      chmodSync(closed, 0o700);
      symlinkSync(onPath('curl'), join(closed, 'curl'));
      const store = new Store();
      ensureSystemNamespaces(store);
      const block = await claimAddressBlock();
      const start = (curlBinary: string, name: string) => {
        // A node of its own, so that only this kubelet runs the pod.
        const kubelet = new Kubelet(store, new LogBook(store, () => new Date()), {
          nodeNames: [`node-${name}`],
          addressOctet: block.octet,
          serverEntry: '/nonexistent',
          nodeBinary: process.execPath,
          curlBinary,
          random: seededRandom(`run-as-${name}`),
          now: () => new Date(),
          log: () => undefined,
          serviceTarget: () => undefined,
        });
        kubelet.start();
        store.create(PODS, {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, namespace: 'default' },
          spec: {
            nodeName: `node-${name}`,
            restartPolicy: 'Never',
            securityContext: { runAsUser: 10001, runAsGroup: 10002 },
            containers: [
              {
                name: 'c',
                image: 'curlimages/curl:8.11.1',
                args: ['-sS', '-o', join(open, name), 'file:///etc/hostname'],
              },
            ],
          },
        });
        return kubelet;
      };
      const finished = async (name: string) => {
        for (let i = 0; i < 200; i += 1) {
          const phase = statusOf<PodStatus>(store.mustGet(PODS, 'default', name)).phase;
          if (phase === 'Succeeded' || phase === 'Failed') return phase;
          await new Promise((r) => setTimeout(r, 25));
        }
        return 'still running';
      };
      const kubelets = [start(onPath('curl'), 'switched')];
      try {
        expect(await finished('switched')).toBe('Succeeded');
        expect(statSync(join(open, 'switched'))).toMatchObject({ uid: 10001, gid: 10002 });
        kubelets.push(start(join(closed, 'curl'), 'kept'));
        expect(await finished('kept')).toBe('Succeeded');
        expect(statSync(join(open, 'kept')).uid).toBe(0);
        const said = store
          .list(EVENTS, { namespace: 'default' })
          .items.filter((e) => e.reason === 'RunAsUserNotApplied')
          .map((e) => (e as { message?: string }).message);
        expect(said).toEqual([
          `Container c runs as this machine's user, not uid 10001: user 10001 cannot enter ${closed}`,
        ]);
      } finally {
        for (const k of kubelets) await k.stop();
        block.release();
        rmSync(open, { recursive: true, force: true });
        rmSync(closed, { recursive: true, force: true });
      }
    },
  );
});
