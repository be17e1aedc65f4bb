import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  proxyModeFromConfig,
  proxyModeSentence,
  type ProxyMode,
} from '../src/cli/core/proxy-mode.js';
import { startLab, type Lab } from './blast-support.js';

describe('kube-proxy mode, from its config.conf', () => {
  it.each([
    ['mode: iptables\n', 'iptables'],
    ['apiVersion: kubeproxy.config.k8s.io/v1alpha1\nmode: "nftables"\n', 'nftables'],
    ['mode: ipvs\nipvs:\n  scheduler: ""\n', 'ipvs'],
    ['mode: ""\n', 'iptables'],
    ['kind: KubeProxyConfiguration\n', 'iptables'],
    ['mode: kernelspace\n', 'unknown'],
    ['mode: [not, a, mode\n', 'unknown'],
  ])('%j is %s', (config, mode) => {
    expect(proxyModeFromConfig(config).mode).toBe(mode);
  });

  it('is unknown, with the reason, when kube-proxy has no ConfigMap', () => {
    const proxy = proxyModeFromConfig(undefined);
    expect(proxy.mode).toBe('unknown');
    expect(proxyModeSentence(proxy)).toMatch(
      /^How this cluster's Service proxy picks a pod is not known \(no kube-proxy ConfigMap/,
    );
  });

  it('says random per connection for iptables and nftables, in turn for IPVS', () => {
    const say = (mode: ProxyMode['mode']) => proxyModeSentence({ mode, source: 'test' });
    expect(say('iptables')).toMatch(/iptables mode.*at random once per connection/);
    expect(say('nftables')).toMatch(/nftables mode.*at random once per connection/);
    expect(say('ipvs')).toMatch(/round robin.*near even/);
    expect(proxyModeSentence({ mode: 'iptables', source: 'x', embedded: true })).toMatch(
      /^The embedded cluster's Service proxy picks as kube-proxy's iptables mode does/,
    );
  });
});

interface StatusJson {
  target: { mode: string; context: string; namespace: string };
  deployment: { desired: number; ready: number; image: string } | null;
  service: { endpoints: number } | null;
  proxyMode: { mode: string; embedded?: boolean };
  lastBlast: { count: number; service: { total: number; errors: number } | null } | null;
  ready: boolean;
}

describe('status and logs on the embedded cluster', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab('status-tests');
  }, 120_000);
  afterAll(async () => {
    await lab?.close();
  }, 120_000);

  const status = async () => {
    const run = await lab.run(['status', '--json']);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    return { code: run.exitCode, value: JSON.parse(run.stdout) as StatusJson, stderr: run.stderr };
  };

  it('says the lesson is not up, with exit 14, before `up`', async () => {
    const { code, value } = await status();
    expect(code).toBe(14);
    expect(value.ready).toBe(false);
    expect(value.deployment).toBeNull();
    expect(value.target).toMatchObject({ mode: 'sim', context: 'replica-demo-sim' });
    const text = await lab.run(['status']);
    expect(text.stdout).toContain('Not up: `npx replica-demo up` deploys the lesson.');
  });

  it('after `up` and a blast: 5/5 ready, 5 endpoints, the proxy mode and the last blast, exit 0', async () => {
    const up = await lab.run(['up', '--sim'], 240_000);
    expect(up.exitCode, up.stderr).toBe(0);
    const blast = await lab.run(['blast', '--count', '50', '--via', 'service', '--json']);
    expect(blast.exitCode, blast.stderr).toBe(0);
    expect((JSON.parse(blast.stdout) as { service: { proxyMode: string } }).service.proxyMode).toBe(
      'iptables',
    );
    const { code, value } = await status();
    expect(code).toBe(0);
    expect(value.ready).toBe(true);
    expect(value.deployment).toMatchObject({ desired: 5, ready: 5 });
    expect(value.deployment?.image).toMatch(/^multi-replica-app:/);
    expect(value.service?.endpoints).toBe(5);
    expect(value.proxyMode).toMatchObject({ mode: 'iptables', embedded: true });
    expect(value.lastBlast).toMatchObject({ count: 50, service: { total: 50, errors: 0 } });
    const text = await lab.run(['status']);
    expect(text.stdout).toMatch(/^Deployment: +web-server-deployment, 5\/5 ready/m);
    expect(text.stdout).toMatch(/^Last blast: +\d+ s ago: 50 requests through the Service/m);
  });

  it("logs: every pod's lines in one stream, each led by its replica id", async () => {
    const run = await lab.run(['logs', '--since', '10m']);
    expect(run.exitCode, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    const requests = lines.filter((l) => l.includes('Request received by'));
    // The blast above: 50 requests, each logged by the pod that answered it.
    expect(requests.length).toBeGreaterThanOrEqual(50);
    for (const line of requests) {
      const match =
        /^(\w{5}) │ \[[^\]]+\] Request received by \S+-(\w{5}) \(Replica (\w{5})\)$/.exec(line);
      expect(match, line).not.toBeNull();
      expect(match?.[1]).toBe(match?.[2]);
      expect(match?.[1]).toBe(match?.[3]);
    }
    expect(new Set(requests.map((l) => l.slice(0, 5))).size).toBeGreaterThan(1);
  });

  it('logs -f follows the pods, and the replacement of a killed one, until Ctrl-C (exit 0)', async () => {
    const child = lab.spawn(['logs', '-f', '--since', '1s']);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const until = async (check: () => boolean, what: string) => {
      for (let waited = 0; !check(); waited += 100) {
        if (waited > 60_000) throw new Error(`no ${what}:\n${stdout}\n${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    await until(() => stderr.includes('Following the logs of 5 pod(s)'), 'start');
    const kill = await lab.run(['kill-pod', '--grace', '1', '--json']);
    expect(kill.exitCode, kill.stderr).toBe(0);
    const replacement = (JSON.parse(kill.stdout) as { replacement: string }).replacement;
    const id = replacement.split('-').at(-1) ?? '';
    // Blasts until the replacement answers one (the Service picks at random), whose log
    // line then reaches this stream led by the replacement's id.
    const answered = new RegExp(
      `^${id} │ .*Request received by ${replacement} \\(Replica ${id}\\)$`,
      'm',
    );
    for (let i = 0; i < 10 && !answered.test(stdout); i += 1) {
      const blast = await lab.run(['blast', '--count', '40', '--via', 'service']);
      expect(blast.exitCode, blast.stderr).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(stdout).toMatch(answered);
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(0);
  });

  it('after `down --keep-cluster`: not up again (exit 14)', async () => {
    const down = await lab.run(['down', '--sim', '--keep-cluster', '--yes'], 120_000);
    expect(down.exitCode, down.stderr).toBe(0);
    const { code, value } = await status();
    expect(code).toBe(14);
    expect(value.service).toBeNull();
  });
});
