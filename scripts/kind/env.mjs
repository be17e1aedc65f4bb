// The environment for running the lesson against the kind cluster `cluster.sh` made: its kind
// and its kubectl (the cluster's minor version) first on PATH, and this machine's Node.js
// base image for the server image when no base image was chosen. Empty where nothing was built.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function kindCacheDir() {
  return (
    process.env.REPLICA_DEMO_KIND_CACHE ?? path.join(os.homedir(), '.cache', 'replica-demo', 'kind')
  );
}

export function kindToolEnv() {
  const env = {};
  const toolDir = path.join(kindCacheDir(), 'bin', 'path');
  if (existsSync(toolDir)) env.PATH = `${toolDir}${path.delimiter}${process.env.PATH ?? ''}`;
  const localBase = `replica-demo/node-base:${process.version}`;
  if (process.env.REPLICA_DEMO_BASE_IMAGE === undefined && imageExists(localBase)) {
    env.REPLICA_DEMO_BASE_IMAGE = localBase;
  }
  return env;
}

function imageExists(image) {
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
