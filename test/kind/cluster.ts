import { execa } from 'execa';

/**
 * The kind cluster the suite runs on: KIND_CLUSTER_NAME if it exists, else the first one,
 * and only if its API server answers.
 */
export async function reachableKindCluster(): Promise<string | undefined> {
  try {
    const clusters = (await execa('kind', ['get', 'clusters'], { timeout: 20_000 })).stdout
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('No kind clusters'));
    const wanted = process.env.KIND_CLUSTER_NAME;
    const name = wanted !== undefined ? clusters.find((c) => c === wanted) : clusters[0];
    if (!name) return undefined;
    await execa('kubectl', ['--context', `kind-${name}`, 'get', '--raw', '/readyz'], {
      timeout: 20_000,
    });
    return name;
  } catch {
    return undefined;
  }
}
