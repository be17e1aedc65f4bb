// The server image, side by side in one run: a cold build (no build cache) of the Dockerfile
// before it installed the server's own package (it ran `npm ci` on the whole project) and of
// the current one, alternating, with medians and their ratio; then what each adds on top of
// its base image, in MB.
//
//   node bench/image.mjs                 # base: the Node runtime running this script, imported
//   node bench/image.mjs --runs 5 --base node:22-alpine   # base: an image the engine already has
//   node bench/image.mjs --before <commit>   # compare with another commit's Dockerfile
//
// Needs a Docker engine (`.ci/start-docker` starts one) and git. Removes what it builds.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { importNodeRuntime } from '../scripts/node-base-image.mjs';

const execFileAsync = promisify(execFile);
const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const runId = randomBytes(4).toString('hex');
/** The last commit whose Dockerfile installed every dependency of the project. */
const WHOLE_PROJECT_INSTALL = '6dd81a4d69026ab5b9a0dea3c995979bc0d3fc12';
const { values: args } = parseArgs({
  options: {
    base: { type: 'string' },
    before: { type: 'string', default: WHOLE_PROJECT_INSTALL },
    runs: { type: 'string', default: '3' },
  },
});
const RUNS = Number(args.runs);

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
/** @param {number[]} xs */
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? Number(s[m]) : (Number(s[m - 1]) + Number(s[m])) / 2;
};
/** @param {number} ms */
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

/**
 * The build context of `commit`, unpacked into `dir`: its Dockerfile copies from it.
 * @param {string} commit
 * @param {string} dir
 */
async function contextAt(commit, dir) {
  const tarball = `${dir}.tar`;
  await run('git', ['-C', projectRoot, 'archive', '--format=tar', '--output', tarball, commit]);
  await mkdir(dir);
  await run('tar', ['-C', dir, '-xf', tarball]);
  await rm(tarball);
}

/**
 * One cold build: no build cache, so every step runs as on a fresh machine.
 * @param {string} context
 * @param {string} baseTag
 * @param {string} tag
 */
async function coldBuild(context, baseTag, tag) {
  // The previous build's layers may still be on their way to disk: not this build's time.
  await run('sync', []);
  const started = process.hrtime.bigint();
  await run('docker', [
    'build',
    '--no-cache',
    // A failed step's container would keep its image from being removed.
    '--force-rm',
    '--network',
    'host',
    '--build-arg',
    `BASE_IMAGE=${baseTag}`,
    '--tag',
    tag,
    context,
  ]);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

try {
  await run('docker', ['info', '--format', '{{.ServerVersion}}'], 20_000);
} catch {
  console.log('no Docker engine answers `docker info`; run .ci/start-docker first');
  process.exitCode = 1;
}

if (process.exitCode !== 1) {
  const imported = args.base === undefined;
  const baseTag = args.base ?? `replica-demo-bench-node-base:${runId}`;
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'replica-demo-bench-image-'));
  const builds = [
    { name: `before (${args.before.slice(0, 7)})`, context: path.join(workDir, 'before') },
    { name: 'now', context: projectRoot },
  ].map((build, i) => ({
    ...build,
    tag: `replica-demo-bench-server-${i}:${runId}`,
    /** @type {number[]} */
    ms: [],
    added: 0,
    history: '',
  }));
  let baseId = '';
  // The stages' intermediate images, a few hundred MB a build before; only an imported base
  // is this run's own, so only then is everything built on it ours to remove.
  const removeBuildStages = async () => {
    if (!imported || baseId === '') return;
    for (const id of await descendantsOf(baseId)) {
      await run('docker', ['rmi', id]).catch(() => undefined);
    }
  };
  try {
    await contextAt(args.before, path.join(workDir, 'before'));
    if (imported) await importNodeRuntime(baseTag);
    baseId = (await run('docker', ['image', 'inspect', '--format', '{{.Id}}', baseTag])).trim();
    const base = await imageSize(baseTag);
    for (let round = 0; round < RUNS; round += 1) {
      // Alternating which goes first, so both see the same machine load on average.
      for (const build of round % 2 === 0 ? builds : [...builds].reverse()) {
        const ms = await coldBuild(build.context, baseTag, build.tag);
        build.ms.push(ms);
        build.added = (await imageSize(build.tag)) - base;
        build.history = await run('docker', [
          'history',
          '--no-trunc',
          '--format',
          '{{.Size}}\t{{.CreatedBy}}',
          build.tag,
        ]);
        await run('docker', ['rmi', build.tag]);
        await removeBuildStages();
        process.stderr.write(`round ${round + 1}: ${build.name} ${seconds(ms)}\n`);
      }
    }
    const [before, now] = builds;
    if (before === undefined || now === undefined) throw new Error('two builds expected');
    const ratio = median(now.ms) / median(before.ms);
    console.log(
      `base ${baseTag}: ${mb(base)} MB${imported ? ' (the local Node runtime, imported)' : ''}`,
    );
    console.log(`cold build (--no-cache), ${RUNS} alternating runs each, medians:`);
    for (const build of builds) {
      console.log(
        `  ${build.name.padEnd(18)} ${seconds(median(build.ms)).padStart(8)}   min ${seconds(Math.min(...build.ms))}   max ${seconds(Math.max(...build.ms))}`,
      );
    }
    console.log(
      `  ratio now/before   ${ratio.toFixed(2).padStart(6)}     target <= 0.33: ${ratio <= 1 / 3 ? 'met' : 'MISSED'}`,
    );
    console.log('layers of the image now, newest first (docker history):');
    for (const line of now.history.split('\n').filter(Boolean)) {
      const [size = '', createdBy = ''] = line.split('\t');
      console.log(`  ${size.padStart(8)}  ${createdBy.replace(/\s+/g, ' ').slice(0, 90)}`);
    }
    console.log(
      `added by our layers: ${mb(now.added)} MB now, ${mb(before.added)} MB before (target < 15 MB)`,
    );
  } finally {
    for (const build of builds) await run('docker', ['rmi', build.tag]).catch(() => undefined);
    await removeBuildStages();
    if (imported && baseId !== '') await run('docker', ['rmi', baseTag]).catch(() => undefined);
    await rm(workDir, { recursive: true, force: true });
  }
}
