import os from 'node:os';
import path from 'node:path';

/** The folder that holds everything the tool keeps between runs. Tests point it at a temp dir. */
export function toolHome(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.REPLICA_DEMO_HOME;
  if (fromEnv && fromEnv.trim() !== '') return path.resolve(fromEnv);
  return path.join(os.homedir(), '.replica-demo');
}
