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
  // The page's script (src/web) is bundled into dist/dashboard, not compiled beside it.
  const sources = (readdirSync(src, { recursive: true }) as string[]).filter(
    (file) => file.endsWith('.ts') && !file.endsWith('.d.ts') && !file.startsWith(`web${path.sep}`),
  );
  return sources.find((file) => {
    const built = path.join(root, 'dist', file.replace(/\.ts$/, '.js'));
    return !existsSync(built) || statSync(built).mtimeMs < statSync(path.join(src, file)).mtimeMs;
  });
}

/** The dashboard's page and script, when a file they are built from is newer (or they are missing). */
export function staleWeb(root: string): boolean {
  const built = ['index.html', 'app.js'].map((f) => path.join(root, 'dist', 'dashboard', f));
  if (!built.every((f) => existsSync(f))) return true;
  const oldest = Math.min(...built.map((f) => statSync(f).mtimeMs));
  const web = path.join(root, 'src', 'web');
  const sources = [
    ...readdirSync(web).map((f) => path.join(web, f)),
    path.join(root, 'src', 'cli', 'dashboard', 'protocol.ts'),
  ];
  return sources.some((f) => statSync(f).mtimeMs > oldest);
}

export default async function setup(): Promise<void> {
  if (staleWeb(ROOT)) {
    const web = await execa(process.execPath, [path.join(ROOT, 'scripts', 'build-web.mjs')], {
      cwd: ROOT,
      reject: false,
      all: true,
    });
    if (web.exitCode !== 0)
      throw new Error(
        `the dashboard's page did not build; fix it and run \`npm run build\`:\n${String(web.all)}`,
      );
  }
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
