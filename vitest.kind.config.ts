import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * The opt-in suite against a real kind cluster (`npm run test:kind`). Where
 * `npm run cluster:kind` built the cluster, its kind and its kubectl (the cluster's own minor
 * version) come first on PATH, and its Node.js base image is the server image's base.
 */
const cache =
  process.env.REPLICA_DEMO_KIND_CACHE ?? path.join(os.homedir(), '.cache/replica-demo/kind');
const toolDir = path.join(cache, 'bin', 'path');
const env: Record<string, string> = {};
if (existsSync(toolDir)) env.PATH = `${toolDir}${path.delimiter}${process.env.PATH ?? ''}`;

const localBase = `replica-demo/node-base:${process.version}`;
if (process.env.REPLICA_DEMO_BASE_IMAGE === undefined && imageExists(localBase)) {
  env.REPLICA_DEMO_BASE_IMAGE = localBase;
}

function imageExists(image: string): boolean {
  try {
    execFileSync('docker', ['image', 'inspect', '--format', '{{.Id}}', image], {
      stdio: 'ignore',
      timeout: 20_000,
    });
    return true;
  } catch {
    return false;
  }
}

export default defineConfig({
  test: {
    include: ['test/kind/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
    fileParallelism: false,
    env,
  },
});
