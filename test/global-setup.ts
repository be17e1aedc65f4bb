import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

/**
 * The CLI, the embedded cluster and its pods run from dist/, so a test must never meet a
 * dist/ older than src/: `npm test` builds first, `npx vitest run` alone does not. Any
 * source newer than its build (or without one) means one build here, before any test.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The first source file whose compiled file is missing or older than it, if any. */
export function staleSource(root: string): string | undefined {
  const src = path.join(root, 'src');
  const sources = (readdirSync(src, { recursive: true }) as string[]).filter(
    (file) => file.endsWith('.ts') && !file.endsWith('.d.ts'),
  );
  return sources.find((file) => {
    const built = path.join(root, 'dist', file.replace(/\.ts$/, '.js'));
    return !existsSync(built) || statSync(built).mtimeMs < statSync(path.join(src, file)).mtimeMs;
  });
}

export default async function setup(): Promise<void> {
  const stale = staleSource(ROOT);
  if (stale === undefined) return;
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const build = await execa(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    reject: false,
    all: true,
  });
  if (build.exitCode !== 0) {
    throw new Error(
      `dist/ is older than src/${stale} and the build failed; fix it and run \`npm run build\`:\n${String(build.all)}`,
    );
  }
  const still = staleSource(ROOT);
  if (still !== undefined) {
    throw new Error(`the build left dist/ older than src/${still}; run \`npm run build\`.`);
  }
}
