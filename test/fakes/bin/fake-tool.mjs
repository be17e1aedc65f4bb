// A stand-in for docker, kind and kubectl in tests: records each call as one JSON line in
// $FAKE_LOG, prints what the real program would, and fails when an env variable asks it to.
import { appendFileSync, readFileSync } from 'node:fs';

const env = process.env;
const list = (name, fallback = '') =>
  (env[name] ?? fallback)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

function readStdin() {
  try {
    return readFileSync(0, 'utf8');
  } catch {
    return '';
  }
}

function done(code, stdout = '', stderr = '') {
  if (stdout) process.stdout.write(stdout.endsWith('\n') ? stdout : `${stdout}\n`);
  if (stderr) process.stderr.write(stderr.endsWith('\n') ? stderr : `${stderr}\n`);
  process.exitCode = code;
}

const fullRef = (ref) => (ref.includes('/') ? `docker.io/${ref}` : `docker.io/library/${ref}`);

function docker(args) {
  const [cmd, ...rest] = args;
  if (cmd === '--version') return done(0, 'Docker version 27.5.1, build fake');
  if (cmd === 'info') {
    if (env.FAKE_DOCKER_DAEMON_DOWN)
      return done(
        1,
        '',
        'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
      );
    return done(0, '27.5.1');
  }
  if (cmd === 'image' && rest[0] === 'inspect') {
    const image = rest.at(-1);
    if (list('FAKE_DOCKER_IMAGES').includes(image)) return done(0, 'sha256:0123456789abcdef');
    return done(1, '', `Error response from daemon: No such image: ${image}`);
  }
  if (cmd === 'build') {
    // A build that takes long enough to be interrupted.
    if (env.FAKE_DOCKER_BUILD_HANG) {
      process.stdout.write('#1 [internal] load build definition from Dockerfile\n');
      setTimeout(() => done(0), 30_000);
      return;
    }
    if (env.FAKE_DOCKER_BUILD_FAIL)
      return done(
        1,
        '',
        'ERROR: failed to solve: process "/bin/sh -c npm ci" did not complete successfully: exit code: 1',
      );
    return done(
      0,
      '#1 [internal] load build definition from Dockerfile\n#9 naming to docker.io/library/image done',
    );
  }
  if (cmd === 'pull') {
    if (env.FAKE_DOCKER_PULL_FAIL)
      return done(
        1,
        '',
        'Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host',
      );
    return done(0, `Status: Downloaded newer image for ${rest[0]}`);
  }
  if (cmd === 'tag') return done(0);
  // The registry: FAKE_REGISTRY_IMAGES holds what it has; FAKE_DOCKER_PUSH_FAIL is the engine's last line.
  if (cmd === 'manifest' && rest[0] === 'inspect') {
    const ref = rest.at(-1);
    if (list('FAKE_REGISTRY_IMAGES').includes(ref)) return done(0, '{"schemaVersion": 2}');
    return done(1, '', `no such manifest: ${ref}`);
  }
  if (cmd === 'push') {
    if (env.FAKE_DOCKER_PUSH_FAIL)
      return done(1, 'The push refers to repository', env.FAKE_DOCKER_PUSH_FAIL);
    return done(0, `${rest[0]}: digest: sha256:0123 size: 528`);
  }
  if (cmd === 'exec' && rest[1] === 'crictl') {
    const node = rest[0];
    const perNode = env[`FAKE_NODE_IMAGES_${node.replace(/[^A-Za-z0-9]/g, '_')}`];
    const images = perNode !== undefined ? list('', perNode) : list('FAKE_NODE_IMAGES');
    return done(
      0,
      JSON.stringify({ images: images.map((i) => ({ id: 'sha256:1', repoTags: [fullRef(i)] })) }),
    );
  }
  return done(1, '', `fake docker: unexpected ${args.join(' ')}`);
}

function kind(args) {
  const [cmd, sub, ...rest] = args;
  const nameOf = () => rest[rest.indexOf('--name') + 1] ?? args[args.indexOf('--name') + 1];
  if (cmd === 'version') return done(0, 'kind v0.27.0 go1.23.6 linux/amd64');
  if (cmd === 'get' && sub === 'clusters') {
    if (env.FAKE_DOCKER_DAEMON_DOWN)
      return done(1, '', 'ERROR: failed to list clusters: command "docker ps" failed');
    const clusters = list('FAKE_KIND_CLUSTERS', 'kind');
    return clusters.length === 0
      ? done(0, '', 'No kind clusters found.')
      : done(0, clusters.join('\n'));
  }
  if (cmd === 'get' && sub === 'nodes') {
    const name = nameOf();
    return done(0, [`${name}-control-plane`, `${name}-worker`, `${name}-worker2`].join('\n'));
  }
  if (cmd === 'load') {
    if (env.FAKE_KIND_LOAD_FAIL)
      return done(
        1,
        '',
        'ERROR: failed to load image: command "docker exec --privileged -i kind-worker ctr" failed with error: exit status 1',
      );
    return done(0, `Image: "${args[2]}" with ID "sha256:1" not yet present on node, loading...`);
  }
  if (cmd === 'create' && sub === 'cluster') {
    if (env.FAKE_KIND_CREATE_FAIL)
      return done(
        1,
        '',
        'ERROR: failed to create cluster: node(s) already exist for a cluster with the name "kind"',
      );
    return done(0, '', `Creating cluster "${nameOf()}" ...\n ✓ Ensuring node image`);
  }
  if (cmd === 'delete' && sub === 'cluster')
    return done(0, '', `Deleting cluster "${nameOf()}" ...`);
  return done(1, '', `fake kind: unexpected ${args.join(' ')}`);
}

function kubectl(args, stdin) {
  const [cmd, sub] = args;
  if (cmd === 'version') return done(0, 'Client Version: v1.32.4\nKustomize Version: v5.5.0');
  if (cmd === 'config' && sub === 'get-contexts')
    return done(0, list('FAKE_KUBE_CONTEXTS', 'kind-kind').join('\n'));
  if (cmd === 'config' && sub === 'current-context')
    return done(0, list('FAKE_KUBE_CONTEXTS', 'kind-kind')[0] ?? '');
  const unreachable =
    'Unable to connect to the server: dial tcp 127.0.0.1:1: connect: connection refused';
  if (cmd === 'get') {
    if (env.FAKE_KUBECTL_UNREACHABLE) return done(1, '', unreachable);
    const all = env.FAKE_KUBECTL_GET_FILE
      ? JSON.parse(readFileSync(env.FAKE_KUBECTL_GET_FILE, 'utf8'))
      : [];
    // `get pods --selector ...` lists pods; `get kind/name ...` the named objects.
    // `kind[.group]/name` arguments name objects; the group is not checked.
    const named = args
      .slice(1)
      .filter((a) => /^[a-z.]+\/[^/]+$/.test(a))
      .map((a) => a.replace(/\.[a-z.]+\//, '/'));
    const items = all.filter((o) =>
      named.length > 0
        ? named.includes(`${String(o.kind).toLowerCase()}/${o.metadata?.name}`)
        : (args[1] === 'pods') === (o.kind === 'Pod'),
    );
    return done(
      0,
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } }),
    );
  }
  if (cmd === 'apply') {
    if (env.FAKE_KUBECTL_APPLY_FAIL)
      return done(
        1,
        '',
        'Error from server (Forbidden): error when creating "STDIN": namespaces is forbidden',
      );
    const kinds = [
      ...stdin.matchAll(/^kind: (\S+)\n(?:.*\n)*?metadata:\n(?:  .*\n)*?  name: (\S+)/gm),
    ];
    return done(0, kinds.map((m) => `${m[1].toLowerCase()}/${m[2]} serverside-applied`).join('\n'));
  }
  if (cmd === 'delete' && args[1] !== 'namespace' && env.FAKE_KUBECTL_DELETE_WORKLOADS_FAIL)
    return done(1, '', 'error: timed out waiting for the condition on pods/web-1');
  if (cmd === 'delete') return done(0, `namespace "${args[2]}" deleted`);
  return done(1, '', `fake kubectl: unexpected ${args.join(' ')}`);
}

export function runFake(tool) {
  const args = process.argv.slice(2);
  const wantsStdin = tool === 'kubectl' && args[0] === 'apply';
  const stdin = wantsStdin ? readStdin() : undefined;
  if (env.FAKE_LOG) {
    appendFileSync(
      env.FAKE_LOG,
      `${JSON.stringify({ tool, args, ...(stdin !== undefined ? { stdin } : {}) })}\n`,
    );
  }
  if (tool === 'docker') return docker(args);
  if (tool === 'kind') return kind(args);
  return kubectl(args, stdin ?? '');
}
