// What our Dockerfile adds on top of its base image, in MB.
//
//   node bench/image.mjs                 # base: the Node runtime running this script, imported
//   node bench/image.mjs --base node:22-alpine   # base: an image the engine already has
//
// Needs a Docker engine (`.ci/start-docker` starts one). Removes what it builds.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { importNodeRuntime } from '../scripts/node-base-image.mjs';

const execFileAsync = promisify(execFile);
const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const runId = randomBytes(4).toString('hex');
const { values: args } = parseArgs({ options: { base: { type: 'string' } } });

/**
 * @param {string} file
 * @param {string[]} argv
 */
async function run(file, argv, timeout = 900_000) {
  const { stdout } = await execFileAsync(file, argv, { timeout, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/**
 * Image ids descending from `ancestor` (the build stages' layers), children first.
 * @param {string} ancestor
 */
async function descendantsOf(ancestor) {
  const ids = (await run('docker', ['image', 'ls', '--all', '--quiet', '--no-trunc']))
    .split('\n')
    .filter(Boolean);
  if (ids.length === 0) return [];
  /** @type {Map<string, string>} */
  const parents = new Map();
  const lines = await run('docker', [
    'image',
    'inspect',
    '--format',
    '{{.Id}} {{.Parent}}',
    ...new Set(ids),
  ]);
  for (const line of lines.split('\n')) {
    const [id, parent] = line.split(' ');
    if (id && parent) parents.set(id, parent);
  }
  /** @param {string} id */
  const depth = (id) => {
    let steps = 0;
    for (let at = parents.get(id); at !== undefined; at = parents.get(at)) {
      steps += 1;
      if (at === ancestor) return steps;
    }
    return 0;
  };
  return [...parents.keys()]
    .map((id) => ({ id, steps: depth(id) }))
    .filter(({ steps }) => steps > 0)
    .sort((a, b) => b.steps - a.steps)
    .map(({ id }) => id);
}

/** @param {string} tag */
const imageSize = async (tag) =>
  Number((await run('docker', ['image', 'inspect', '--format', '{{.Size}}', tag])).trim());
/** @param {number} bytes */
const mb = (bytes) => (bytes / 1e6).toFixed(2);

try {
  await run('docker', ['info', '--format', '{{.ServerVersion}}'], 20_000);
} catch {
  console.log('no Docker engine answers `docker info`; run .ci/start-docker first');
  process.exitCode = 1;
}

if (process.exitCode !== 1) {
  const imported = args.base === undefined;
  const baseTag = args.base ?? `replica-demo-bench-node-base:${runId}`;
  const imageTag = `replica-demo-bench-server:${runId}`;
  let baseId = '';
  try {
    if (imported) await importNodeRuntime(baseTag);
    baseId = (await run('docker', ['image', 'inspect', '--format', '{{.Id}}', baseTag])).trim();
    await run('docker', [
      'build',
      '--network',
      'host',
      '--build-arg',
      `BASE_IMAGE=${baseTag}`,
      '--tag',
      imageTag,
      projectRoot,
    ]);
    const base = await imageSize(baseTag);
    const image = await imageSize(imageTag);
    const history = await run('docker', [
      'history',
      '--no-trunc',
      '--format',
      '{{.Size}}\t{{.CreatedBy}}',
      imageTag,
    ]);
    console.log(
      `base ${baseTag}: ${mb(base)} MB${imported ? ' (the local Node runtime, imported)' : ''}`,
    );
    console.log(`image ${imageTag}: ${mb(image)} MB`);
    console.log('layers, newest first (docker history):');
    for (const line of history.split('\n').filter(Boolean)) {
      const [size = '', createdBy = ''] = line.split('\t');
      console.log(`  ${size.padStart(8)}  ${createdBy.replace(/\s+/g, ' ').slice(0, 90)}`);
    }
    console.log(`added by our layers: ${mb(image - base)} MB (target < 15 MB)`);
  } finally {
    await run('docker', ['rmi', imageTag]).catch(() => undefined);
    if (imported && baseId !== '') {
      for (const id of await descendantsOf(baseId)) {
        await run('docker', ['rmi', id]).catch(() => undefined);
      }
      await run('docker', ['rmi', baseTag]).catch(() => undefined);
    }
  }
}
