// The server image's own package.json and package-lock.json (src/server/image): express,
// which the server imports at run time, and the compiler and types that build it, at exactly
// the versions the project's package-lock.json locks. The image installs these instead of the
// whole project, whose other dependencies serve the CLI and the tests and made most of a cold
// build's time. Run it after any change to package.json or package-lock.json (a test fails
// until then):
//
//   npm run image:package
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The npm packages the server imports at run time: the image keeps these alone. */
export const SERVER_RUNTIME_DEPENDENCIES = ['express'] as const;

/** What compiles the server in the image's build stage, and is pruned before the image. */
export const SERVER_BUILD_DEPENDENCIES = ['@types/express', '@types/node', 'typescript'] as const;

/** Where the server image's package lives, relative to the project root. */
export const SERVER_IMAGE_PACKAGE_DIR = 'src/server/image';

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  peer?: boolean;
  [field: string]: unknown;
}

export interface PackageLock {
  name?: string;
  version?: string;
  lockfileVersion: number;
  requires?: boolean;
  packages: Record<string, LockEntry>;
}

export interface ProjectPackage {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

export interface ServerImagePackage {
  packageJson: {
    name: string;
    version: string;
    description: string;
    private: true;
    type: 'module';
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  packageLock: PackageLock;
}

/** Where Node would find `name` when `from` (a lock key such as `node_modules/router`) imports it. */
function resolveInLock(
  packages: Record<string, LockEntry>,
  from: string,
  name: string,
): string | undefined {
  let base = from;
  for (;;) {
    const candidate = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (packages[candidate] !== undefined) return candidate;
    if (base === '') return undefined;
    const parent = base.lastIndexOf('/node_modules/');
    base = parent === -1 ? '' : base.slice(0, parent);
  }
}

/** The project's range for each of `names`, from dependencies or devDependencies. */
function rangesOf(project: ProjectPackage, names: readonly string[]): Record<string, string> {
  const ranges: Record<string, string> = {};
  // Sorted as npm sorts them, so `npm install` there would write the same files.
  for (const name of [...names].sort((a, b) => a.localeCompare(b, 'en'))) {
    const range = project.dependencies?.[name] ?? project.devDependencies?.[name];
    if (range === undefined) {
      throw new Error(
        `package.json lists '${name}' under neither dependencies nor devDependencies; add it`,
      );
    }
    ranges[name] = range;
  }
  return ranges;
}

/** The lock keys of `roots` and of everything they pull in, as Node would resolve them. */
function closure(lock: PackageLock, roots: readonly string[]): Set<string> {
  const kept = new Set<string>();
  const pending = roots.map((name) => ({ from: '', name, optional: false }));
  while (pending.length > 0) {
    const next = pending.pop();
    if (next === undefined) break;
    const key = resolveInLock(lock.packages, next.from, next.name);
    if (key === undefined) {
      if (next.optional) continue;
      throw new Error(
        `package-lock.json has no entry for '${next.name}' (needed by '${next.from || 'the server'}'); run npm install`,
      );
    }
    if (kept.has(key)) continue;
    kept.add(key);
    const entry = lock.packages[key] ?? {};
    for (const name of Object.keys(entry.dependencies ?? {})) {
      pending.push({ from: key, name, optional: false });
    }
    for (const name of Object.keys(entry.optionalDependencies ?? {})) {
      pending.push({ from: key, name, optional: true });
    }
    for (const name of Object.keys(entry.peerDependencies ?? {})) {
      const optional = entry.peerDependenciesMeta?.[name]?.optional === true;
      pending.push({ from: key, name, optional });
    }
  }
  return kept;
}

/**
 * A package.json and lockfile that install exactly the locked versions of the server's
 * runtime and build dependencies and everything they pull in, nothing more: `npm ci` against
 * them reproduces that part of the project's tree byte for byte, and `npm prune --omit=dev`
 * then leaves the runtime part alone.
 */
export function serverImagePackage(
  project: ProjectPackage,
  lock: PackageLock,
  runtime: readonly string[] = SERVER_RUNTIME_DEPENDENCIES,
  build: readonly string[] = SERVER_BUILD_DEPENDENCIES,
): ServerImagePackage {
  if (lock.lockfileVersion < 2) {
    throw new Error(
      `package-lock.json has lockfileVersion ${lock.lockfileVersion}; regenerate it with npm 7 or newer`,
    );
  }
  const dependencies = rangesOf(project, runtime);
  const devDependencies = rangesOf(project, build);
  const runtimeKeys = closure(lock, runtime);
  const allKeys = new Set([...runtimeKeys, ...closure(lock, build)]);

  const name = `${project.name}-server`;
  const packages: Record<string, LockEntry> = {
    '': { name, version: project.version, dependencies, devDependencies },
  };
  for (const key of [...allKeys].sort()) {
    const entry = lock.packages[key];
    if (entry === undefined) continue;
    // The project's flags describe its whole tree; in this one, what the runtime part does not
    // reach is a build dependency, and only that.
    // The flag goes where npm writes it, after the integrity.
    const { dev: _dev, devOptional: _devOptional, version, resolved, integrity, ...rest } = entry;
    packages[key] = runtimeKeys.has(key)
      ? { version, resolved, integrity, ...rest }
      : { version, resolved, integrity, dev: true, ...rest };
  }
  return {
    packageJson: {
      name,
      version: project.version,
      description: `The server image's dependencies, taken from ${project.name}'s package-lock.json by \`npm run image:package\`; do not edit`,
      private: true,
      type: 'module',
      dependencies,
      devDependencies,
    },
    packageLock: { name, version: project.version, lockfileVersion: 3, requires: true, packages },
  };
}

/** The two files' text, as npm writes JSON. */
export function serverImagePackageFiles(projectDir: string): Record<string, string> {
  const readJson = (file: string): unknown =>
    JSON.parse(readFileSync(path.join(projectDir, file), 'utf8'));
  const result = serverImagePackage(
    readJson('package.json') as ProjectPackage,
    readJson('package-lock.json') as PackageLock,
  );
  return {
    'package.json': `${JSON.stringify(result.packageJson, null, 2)}\n`,
    'package-lock.json': `${JSON.stringify(result.packageLock, null, 2)}\n`,
  };
}

if (
  process.argv[1] !== undefined &&
  path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)
) {
  const projectDir = fileURLToPath(new URL('..', import.meta.url));
  const outputDir = path.join(projectDir, SERVER_IMAGE_PACKAGE_DIR);
  mkdirSync(outputDir, { recursive: true });
  for (const [file, text] of Object.entries(serverImagePackageFiles(projectDir))) {
    writeFileSync(path.join(outputDir, file), text);
  }
  console.log(`wrote ${SERVER_IMAGE_PACKAGE_DIR}/package.json and package-lock.json`);
}
