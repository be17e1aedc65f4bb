// A Node.js base image for the server's Dockerfile (its BASE_IMAGE), made without pulling
// anything: this machine's node, the libraries it loads, npm, /usr/bin/env and the CA bundle,
// laid out like the official Node images and imported into the Docker engine.
//
//   node scripts/node-base-image.mjs TAG
import { execFile } from 'node:child_process';
import { chmod, copyFile, cp, mkdir, mkdtemp, realpath, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

async function run(file, argv) {
  const { stdout } = await execFileAsync(file, argv, {
    timeout: 600_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

/** The shared libraries `ldd` says a binary loads, the dynamic loader included. */
async function linkedLibraries(binary) {
  const stdout = await run('ldd', [binary]);
  return [...stdout.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((match) => match[1]);
}

/** Imports the running Node.js runtime into the Docker engine as `tag`. */
export async function importNodeRuntime(tag) {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'replica-demo-node-base-'));
  try {
    const rootfs = path.join(workDir, 'rootfs');
    const place = async (from, to) => {
      await mkdir(path.dirname(path.join(rootfs, to)), { recursive: true });
      await copyFile(await realpath(from), path.join(rootfs, to));
    };
    const node = await realpath(process.execPath);
    await place(node, '/usr/local/bin/node');
    await chmod(path.join(rootfs, 'usr/local/bin/node'), 0o755);
    // npm's launcher starts with `#!/usr/bin/env node`.
    await place('/usr/bin/env', '/usr/bin/env');
    await chmod(path.join(rootfs, 'usr/bin/env'), 0o755);
    const libraries = new Set([
      ...(await linkedLibraries(node)),
      ...(await linkedLibraries('/usr/bin/env')),
    ]);
    for (const library of libraries) await place(library, library);
    await place(CA_BUNDLE, CA_BUNDLE);
    const npm = path.resolve(path.dirname(node), '..', 'lib', 'node_modules', 'npm');
    await cp(npm, path.join(rootfs, 'usr/local/lib/node_modules/npm'), {
      recursive: true,
      verbatimSymlinks: true,
    });
    await symlink('../lib/node_modules/npm/bin/npm-cli.js', path.join(rootfs, 'usr/local/bin/npm'));
    await mkdir(path.join(rootfs, 'tmp'));
    await chmod(path.join(rootfs, 'tmp'), 0o1777);
    const tarball = path.join(workDir, 'node-runtime.tar');
    await run('tar', ['-C', rootfs, '-cf', tarball, '.']);
    await run('docker', [
      'import',
      '--change',
      'ENV PATH=/usr/local/bin:/usr/bin:/bin',
      '--change',
      `ENV NODE_EXTRA_CA_CERTS=${CA_BUNDLE}`,
      tarball,
      tag,
    ]);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const tag = process.argv[2];
  if (!tag) {
    console.error('usage: node scripts/node-base-image.mjs TAG');
    process.exit(2);
  }
  await importNodeRuntime(tag);
  console.log(tag);
}
