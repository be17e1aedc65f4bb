import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** The folder that holds everything the tool keeps between runs. Tests point it at a temp dir. */
export function toolHome(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.REPLICA_DEMO_HOME;
  if (fromEnv && fromEnv.trim() !== '') return path.resolve(fromEnv);
  return path.join(os.homedir(), '.replica-demo');
}

/**
 * Writes `value` as JSON to `name` in the tool's home, readable by the user alone: whole,
 * then renamed into place, so a reader never sees half a file.
 */
export async function writeHomeFile(home: string, name: string, value: unknown): Promise<void> {
  await mkdir(home, { recursive: true, mode: 0o700 });
  const file = path.join(home, name);
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, file);
}
