import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageReference, imageTag } from '../src/cli/core/image-tag.js';
import { loadManifests, renderManifests } from '../src/cli/core/manifests.js';
import { CURL_IMAGE, NAMESPACE } from '../src/cli/core/names.js';
import { commandLines, indexOfCall, ROOT, sandbox, type Sandbox } from './fakes/harness.js';

/**
 * `up` against fake docker, kind and kubectl. The fakes cover every subprocess; the API
 * wait that follows the apply meets a kubeconfig pointing at 127.0.0.1:1 and stops there
 * with exit 8, which is how these runs end when everything before it went well.
 */

let box: Sandbox;
let image: string;

beforeAll(async () => {
  box = sandbox();
  image = imageReference(await imageTag(ROOT));
});
afterAll(() => box.cleanup());

function manifestsDigest(): string {
  const dir = path.join(ROOT, 'manifests');
  const hash = createHash('sha256');
  for (const name of readdirSync(dir).sort()) {
    const file = path.join(dir, name);
    if (statSync(file).isFile()) hash.update(name).update(readFileSync(file));
  }
  return hash.digest('hex');
}

describe('up with fake tools', () => {
  it('runs preflight, build, load, curl image, apply in that order, then stops at the unreachable API', async () => {
    const before = manifestsDigest();
    const r = await box.run(['up'], { env: {} });
    const lines = commandLines(r.calls);
    const order = [
      'docker --version',
      'docker info',
      'kind version',
      'kubectl version --client',
      'kind get clusters',
      'kubectl config get-contexts',
      `docker image inspect --format {{.Id}} ${image}`,
      `docker build --tag ${image}`,
      'kind get nodes --name kind',
      `kind load docker-image ${image} --name kind`,
      `docker image inspect --format {{.Id}} ${CURL_IMAGE}`,
      `docker pull ${CURL_IMAGE}`,
      `kind load docker-image ${CURL_IMAGE} --name kind`,
      'kubectl get namespace/multi-replica-web',
      'kubectl apply --server-side --field-manager=replica-demo',
    ];
    const positions = order.map((p) => indexOfCall(r.calls, p));
    expect(positions, lines.join('\n')).not.toContain(-1);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    // One crictl listing per node, for each of the two images.
    expect(lines.filter((l) => l.includes('crictl images'))).toHaveLength(6);

    const apply = r.calls.find((c) => c.tool === 'kubectl' && c.args[0] === 'apply');
    expect(apply?.args).toEqual(
      expect.arrayContaining(['--context', 'kind-kind', '--filename', '-']),
    );
    expect(apply?.stdin).toContain(`image: ${image}`);
    expect(apply?.stdin).toContain('replicas: 5');
    expect(apply?.stdin).toContain('app.kubernetes.io/managed-by: replica-demo');
    // Every kubectl call that touches the cluster names the context.
    for (const c of r.calls.filter(
      (c) => c.tool === 'kubectl' && ['get', 'apply'].includes(c.args[0] ?? ''),
    )) {
      expect(c.args).toContain('--context');
    }
    expect(r.code).toBe(8);
    expect(r.stderr).toMatch(/API server of context kind-kind is not reachable/);
    expect(manifestsDigest()).toBe(before);

    const state = JSON.parse(readFileSync(path.join(r.home, 'state.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(state).toMatchObject({
      mode: 'kind',
      context: 'kind-kind',
      cluster: 'kind',
      namespace: NAMESPACE,
      image,
    });
    expect(statSync(path.join(r.home, 'state.json')).mode & 0o777).toBe(0o600);
  });

  it('rebuilds nothing, reloads nothing, applies nothing and needs no API call when the cluster already matches', async () => {
    const live: Record<string, unknown>[] = renderManifests(loadManifests(), {
      image,
      replicas: 5,
      namespace: NAMESPACE,
    });
    // What the server adds must not count as a difference.
    for (const o of live)
      Object.assign(o.metadata as object, { uid: 'u', resourceVersion: '7', managedFields: [] });
    const deployment = live.find((o) => o.kind === 'Deployment') as {
      metadata: Record<string, unknown>;
      status?: unknown;
    };
    deployment.metadata.generation = 1;
    deployment.status = {
      observedGeneration: 1,
      replicas: 5,
      updatedReplicas: 5,
      readyReplicas: 5,
      availableReplicas: 5,
    };
    for (const id of ['aaaaa', 'bbbbb', 'ccccc', 'ddddd', 'eeeee']) {
      live.push({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `web-server-deployment-5c7d9-${id}`,
          creationTimestamp: new Date().toISOString(),
        },
        spec: { nodeName: 'kind-worker' },
        status: { podIP: '10.244.1.7', containerStatuses: [{ ready: true, restartCount: 0 }] },
      });
    }
    const r = await box.run(['up', '--cluster', 'kind'], {
      env: {
        FAKE_DOCKER_IMAGES: `${image},${CURL_IMAGE}`,
        FAKE_NODE_IMAGES: `${image},${CURL_IMAGE}`,
        FAKE_KUBECTL_GET_FILE: box.writeJson('live.json', live),
      },
    });
    const lines = commandLines(r.calls);
    expect(lines.some((l) => l.startsWith('docker build'))).toBe(false);
    expect(lines.some((l) => l.startsWith('kind load'))).toBe(false);
    expect(lines.some((l) => l.startsWith('docker pull'))).toBe(false);
    expect(lines.some((l) => l.startsWith('kubectl apply'))).toBe(false);
    expect(r.stderr).toContain('not rebuilding');
    expect(r.stderr).toContain('not loading');
    expect(r.stderr).toContain('manifests unchanged on the cluster');
    expect(r.stderr).toContain('Nothing changed');
    // The dead kubeconfig was never dialled: the run ends well.
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('web-server-deployment-'))).toHaveLength(
      5,
    );
    expect(r.stdout).toMatch(/^NAME +REPLICA +POD IP +NODE +READY +RESTARTS +AGE$/m);
    expect(r.stdout).toMatch(
      /web-server-deployment-5c7d9-aaaaa +aaaaa +10\.244\.1\.7 +kind-worker +1\/1 +0 +\d+s/,
    );
  });

  it('applies when the live Deployment has another replica count', async () => {
    const live = renderManifests(loadManifests(), { image, replicas: 3, namespace: NAMESPACE });
    const r = await box.run(['up', '--cluster', 'kind'], {
      env: {
        FAKE_DOCKER_IMAGES: `${image},${CURL_IMAGE}`,
        FAKE_NODE_IMAGES: `${image},${CURL_IMAGE}`,
        FAKE_KUBECTL_GET_FILE: box.writeJson('live3.json', live),
      },
    });
    const apply = r.calls.find((c) => c.args[0] === 'apply');
    expect(apply?.stdin).toContain('replicas: 5');
    expect(r.stderr).toMatch(/applied Deployment\/web-server-deployment$/m);
  });

  it('loads the image only into the nodes that lack it', async () => {
    const r = await box.run(['up', '--cluster', 'kind'], {
      env: {
        FAKE_DOCKER_IMAGES: `${image},${CURL_IMAGE}`,
        FAKE_NODE_IMAGES: `${image},${CURL_IMAGE}`,
        FAKE_NODE_IMAGES_kind_worker2: CURL_IMAGE,
      },
    });
    const loads = commandLines(r.calls).filter((l) => l.startsWith('kind load'));
    expect(loads).toEqual([`kind load docker-image ${image} --name kind --nodes kind-worker2`]);
  });

  it('says at once how to get the curl image when it cannot be pulled, and goes on', async () => {
    const r = await box.run(['up'], {
      env: { FAKE_DOCKER_IMAGES: image, FAKE_NODE_IMAGES: image, FAKE_DOCKER_PULL_FAIL: '1' },
    });
    expect(r.stderr).toContain(
      `\`docker pull ${CURL_IMAGE} && kind load docker-image ${CURL_IMAGE} --name kind\``,
    );
    expect(r.stderr).toContain('no such host');
    expect(indexOfCall(r.calls, 'kubectl apply')).toBeGreaterThan(-1);
  });

  it('picks the only kind cluster when exactly one exists', async () => {
    const r = await box.run(['up'], {
      env: {
        FAKE_KIND_CLUSTERS: 'lesson',
        FAKE_KUBE_CONTEXTS: 'kind-kind,kind-lesson',
        FAKE_DOCKER_IMAGES: `${image},${CURL_IMAGE}`,
        FAKE_NODE_IMAGES: `${image},${CURL_IMAGE}`,
      },
    });
    const apply = r.calls.find((c) => c.args[0] === 'apply');
    expect(apply?.args).toEqual(expect.arrayContaining(['--context', 'kind-lesson']));
    expect(indexOfCall(r.calls, 'kind get nodes --name lesson')).toBeGreaterThan(-1);
  });

  it('creates the cluster with --create-cluster and remembers that it did', async () => {
    const r = await box.run(['up', '--cluster', 'fresh', '--create-cluster'], {
      env: { FAKE_KIND_CLUSTERS: 'kind', FAKE_KUBE_CONTEXTS: 'kind-kind,kind-fresh' },
    });
    const create = r.calls.find((c) => c.tool === 'kind' && c.args[0] === 'create');
    expect(create?.args).toEqual([
      'create',
      'cluster',
      '--name',
      'fresh',
      '--config',
      path.join(ROOT, 'manifests', 'kind', 'kind-cluster.yaml'),
    ]);
    expect(indexOfCall(r.calls, 'kind create')).toBeLessThan(indexOfCall(r.calls, 'docker build'));
    const state = JSON.parse(readFileSync(path.join(r.home, 'state.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(state).toMatchObject({ cluster: 'fresh', context: 'kind-fresh', createdCluster: true });
  });

  it('--dry-run runs only read-only commands and prints the ones it would run', async () => {
    const r = await box.run(['up', '--cluster', 'kind', '--dry-run']);
    const lines = commandLines(r.calls);
    for (const changing of [
      'docker build',
      'docker pull',
      'kind load',
      'kind create',
      'kubectl apply',
      'kubectl delete',
    ]) {
      expect(
        lines.some((l) => l.startsWith(changing)),
        changing,
      ).toBe(false);
    }
    expect(r.stdout).toContain(`would run: docker build --tag ${image}`);
    expect(r.stdout).toContain(`would run: kind load docker-image ${image} --name kind`);
    expect(r.stdout).toContain(
      'would run: kubectl apply --server-side --field-manager=replica-demo',
    );
    expect(r.stdout).toContain(`image: ${image}`);
    expect(r.stdout).toMatch(
      /would call: GET\+WATCH \/apis\/apps\/v1\/namespaces\/multi-replica-web\/deployments/,
    );
    expect(r.code).toBe(0);
  });

  it('--sim --dry-run starts no embedded cluster and prints the plan', async () => {
    const r = await box.run(['up', '--sim', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(commandLines(r.calls)).toEqual(['kubectl version --client']);
    expect(r.stdout).toContain('would start: the embedded cluster');
    expect(r.stdout).toContain(
      'would run: kubectl apply --server-side --field-manager=replica-demo --force-conflicts --context replica-demo-sim --kubeconfig',
    );
    expect(existsSync(path.join(r.home, 'sim'))).toBe(false);
    expect(existsSync(path.join(r.home, 'state.json'))).toBe(false);
  });

  it('uses a foreign context only with --context CTX --yes, and skips the kind image steps there', async () => {
    const r = await box.run(['up', '--context', 'prod-admin', '--yes'], {
      env: { FAKE_KUBE_CONTEXTS: 'prod-admin' },
    });
    const lines = commandLines(r.calls);
    expect(lines.some((l) => l.startsWith('kind') || l.startsWith('docker'))).toBe(false);
    expect(r.stderr).toContain('Image steps skipped: context prod-admin is not a kind cluster');
    const apply = r.calls.find((c) => c.args[0] === 'apply');
    expect(apply?.args).toEqual(expect.arrayContaining(['--context', 'prod-admin']));
  });
});

describe('up --registry', () => {
  const registry = 'localhost:5001/lesson';

  it('builds, tags and pushes both images, loads nothing into kind, and deploys from the registry', async () => {
    const r = await box.run(['up', '--registry', registry], { env: {} });
    const lines = commandLines(r.calls);
    const server = `${registry}/${image}`;
    const curl = `${registry}/curl:8.11.1`;
    const order = [
      `docker build --tag ${image}`,
      `docker manifest inspect --insecure ${server}`,
      `docker tag ${image} ${server}`,
      `docker push ${server}`,
      `docker manifest inspect --insecure ${curl}`,
      `docker pull ${CURL_IMAGE}`,
      `docker tag ${CURL_IMAGE} ${curl}`,
      `docker push ${curl}`,
      'kubectl apply --server-side',
    ];
    const positions = order.map((p) => indexOfCall(r.calls, p));
    expect(positions, lines.join('\n')).not.toContain(-1);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(lines.filter((l) => l.startsWith('kind load') || l.includes('crictl'))).toEqual([]);
    const apply = r.calls.find((c) => c.args[0] === 'apply');
    expect(apply?.stdin).toContain(`image: ${server}`);
    expect(r.stderr).toContain(`Pushed ${server}`);
  });

  it('pushes nothing the registry already holds', async () => {
    const server = `${registry}/${image}`;
    const r = await box.run(['up', '--registry', `${registry}/`], {
      env: {
        FAKE_DOCKER_IMAGES: image,
        FAKE_REGISTRY_IMAGES: `${server},${registry}/curl:8.11.1`,
      },
    });
    const lines = commandLines(r.calls);
    expect(lines.filter((l) => /^docker (build|tag|push|pull)/.test(l))).toEqual([]);
    expect(r.stderr).toContain(`${server} already in the registry: not pushing`);
  });

  it('pushes to a foreign context with --yes, and refuses it without', async () => {
    const refused = await box.run(['up', '--context', 'cloud', '--registry', registry], {
      env: { FAKE_KUBE_CONTEXTS: 'cloud' },
    });
    expect(refused.code).toBe(9); // refused: a foreign context needs --yes
    expect(commandLines(refused.calls).some((l) => l.startsWith('docker push'))).toBe(false);
    const r = await box.run(['up', '--context', 'cloud', '--registry', registry, '--yes'], {
      env: { FAKE_KUBE_CONTEXTS: 'cloud' },
    });
    const lines = commandLines(r.calls);
    expect(lines.some((l) => l.startsWith('kind'))).toBe(false);
    expect(indexOfCall(r.calls, `docker push ${registry}/${image}`)).toBeGreaterThan(-1);
    expect(r.calls.find((c) => c.args[0] === 'apply')?.stdin).toContain(
      `image: ${registry}/${image}`,
    );
  });

  it('a refused push ends the run before the cluster is touched, with the fix', async () => {
    const r = await box.run(['up', '--registry', 'ghcr.io/someone/lesson'], {
      env: {
        FAKE_DOCKER_IMAGES: image,
        FAKE_DOCKER_PUSH_FAIL: 'unauthorized: authentication required',
      },
    });
    expect(r.code).toBe(12); // the operation failed
    expect(r.stderr).toContain('unauthorized: authentication required');
    expect(r.stderr).toContain('`docker login ghcr.io`');
    expect(indexOfCall(r.calls, 'kubectl apply')).toBe(-1);
  });

  it('--dry-run prints the tag and push it would run, and runs neither', async () => {
    const r = await box.run(['up', '--registry', registry, '--dry-run']);
    const lines = commandLines(r.calls);
    expect(lines.some((l) => /^docker (build|tag|push)/.test(l))).toBe(false);
    expect(r.stdout).toContain(`would run: docker push ${registry}/${image}`);
    expect(r.stdout).toContain(`would run: docker push ${registry}/curl:8.11.1`);
    expect(r.stdout).toContain(`image: ${registry}/${image}`);
    expect(r.code, r.stderr).toBe(0);
  });
});

describe('Ctrl-C', () => {
  it('stops the build, says what was left, and exits 130', async () => {
    const r = await box.run(['up'], {
      env: { FAKE_DOCKER_BUILD_HANG: '1' },
      interruptOn: 'load build definition',
    });
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(
      /Error: Interrupted during the build of multi-replica-app:\w+\. The build was stopped; nothing in the cluster was changed\.$/m,
    );
    const lines = commandLines(r.calls);
    expect(lines.at(-1)).toMatch(/^docker build/);
  });
});

interface FailureCase {
  name: string;
  args?: string[];
  env?: Record<string, string>;
  tools?: ('docker' | 'kind' | 'kubectl')[];
  code: number;
  message: RegExp;
  /** The last command run; nothing may follow it. undefined = no command at all. */
  last?: string;
}

const failures: FailureCase[] = [
  {
    name: 'docker missing',
    tools: ['kind', 'kubectl'],
    code: 3,
    message: /docker command is not installed.*Install Docker/,
  },
  {
    name: 'docker daemon down',
    env: { FAKE_DOCKER_DAEMON_DOWN: '1' },
    code: 4,
    message: /Docker daemon is not reachable \(Cannot connect.*\)\. Start it/,
    last: 'docker info',
  },
  {
    name: 'kind missing',
    tools: ['docker', 'kubectl'],
    code: 5,
    message: /kind is not installed.*kind\.sigs\.k8s\.io/,
    last: 'docker info',
  },
  {
    name: 'kubectl missing',
    tools: ['docker', 'kind'],
    code: 6,
    message: /kubectl is not installed.*Install kubectl/,
    last: 'kind version',
  },
  {
    name: 'cluster missing',
    args: ['--cluster', 'lesson'],
    env: { FAKE_KIND_CLUSTERS: 'kind,other' },
    code: 7,
    message:
      /kind cluster "lesson" does not exist.*replica-demo up --cluster lesson --create-cluster/,
    last: 'kind get clusters',
  },
  {
    name: 'context missing from the kubeconfig',
    env: { FAKE_KUBE_CONTEXTS: 'kind-other' },
    code: 8,
    message: /Context "kind-kind" is not in your kubeconfig.*kind export kubeconfig --name kind/,
    last: 'kubectl config get-contexts',
  },
  {
    name: 'build failing',
    env: { FAKE_DOCKER_BUILD_FAIL: '1' },
    code: 12,
    message:
      /docker build` of multi-replica-app:\w+ failed: ERROR: failed to solve.*Run it by hand/,
    last: 'docker build',
  },
  {
    name: 'load failing',
    env: { FAKE_KIND_LOAD_FAIL: '1' },
    code: 12,
    message:
      /Loading multi-replica-app:\w+ into kind cluster "kind" failed: .*Try it by hand: `kind load docker-image/,
    last: 'kind load',
  },
  {
    name: 'cluster unreachable for kubectl',
    env: { FAKE_KUBECTL_UNREACHABLE: '1', FAKE_NODE_IMAGES: CURL_IMAGE },
    code: 8,
    message:
      /cluster of context "kind-kind" is not reachable.*kubectl --context kind-kind cluster-info/,
    last: 'kubectl get',
  },
  {
    name: 'apply rejected',
    env: { FAKE_KUBECTL_APPLY_FAIL: '1', FAKE_NODE_IMAGES: CURL_IMAGE },
    code: 12,
    message: /`kubectl apply` failed: Error from server \(Forbidden\)/,
    last: 'kubectl apply',
  },
];

describe('up preflight and step failures', () => {
  it.each(failures)('$name: exit $code with the fix, nothing after', async (c) => {
    const r = await box.run(['up', ...(c.args ?? [])], {
      env: c.env ?? {},
      ...(c.tools ? { tools: c.tools } : {}),
    });
    expect(r.code, r.stderr).toBe(c.code);
    const errorLines = r.stderr.split('\n').filter((l) => l.startsWith('Error:'));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(c.message);
    const lines = commandLines(r.calls);
    if (c.last === undefined) expect(lines).toEqual([]);
    else
      expect(lines.at(-1), lines.join('\n')).toMatch(
        new RegExp(`^${c.last.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
      );
  });
});
