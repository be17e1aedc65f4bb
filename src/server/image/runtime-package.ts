import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The npm packages the server imports at run time. The project's other production
 * dependencies (the Kubernetes client above all) serve the CLI and would make the image
 * about a hundred megabytes heavier, so the image installs these alone.
 */
export const SERVER_RUNTIME_DEPENDENCIES = ['express'] as const;

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
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
}

export interface RuntimePackage {
  packageJson: {
    name: string;
    version: string;
    private: true;
    type: 'module';
    dependencies: Record<string, string>;
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

/**
 * A package.json and lockfile that install exactly the locked versions of `dependencies`
 * and everything they pull in, nothing more: `npm ci` against them reproduces that part of
 * the project's tree byte for byte.
 */
export function runtimePackage(
  project: ProjectPackage,
  lock: PackageLock,
  dependencies: readonly string[] = SERVER_RUNTIME_DEPENDENCIES,
): RuntimePackage {
  if (lock.lockfileVersion < 2) {
    throw new Error(
      `package-lock.json has lockfileVersion ${lock.lockfileVersion}; regenerate it with npm 7 or newer`,
    );
  }
  const ranges: Record<string, string> = {};
  for (const name of dependencies) {
    const range = project.dependencies?.[name];
    if (range === undefined) {
      throw new Error(`package.json does not list '${name}' under dependencies; add it`);
    }
    ranges[name] = range;
  }

  const kept = new Map<string, LockEntry>();
  const pending: { from: string; name: string; optional: boolean }[] = dependencies.map((name) => ({
    from: '',
    name,
    optional: false,
  }));
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
    const entry = lock.packages[key];
    if (entry === undefined) continue;
    // Flags describing the whole project's tree would be wrong in the smaller one.
    const { dev: _dev, devOptional: _devOptional, ...rest } = entry;
    kept.set(key, rest);
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

  const name = `${project.name}-server`;
  const packages: Record<string, LockEntry> = {
    '': { name, version: project.version, dependencies: ranges },
  };
  for (const key of [...kept.keys()].sort()) {
    const entry = kept.get(key);
    if (entry !== undefined) packages[key] = entry;
  }
  return {
    packageJson: {
      name,
      version: project.version,
      private: true,
      type: 'module',
      dependencies: ranges,
    },
    packageLock: { name, version: project.version, lockfileVersion: 3, requires: true, packages },
  };
}

/** `node runtime-package.js <project dir> <output dir>`: writes package.json and package-lock.json. */
function writeRuntimePackage(projectDir: string, outputDir: string): void {
  const readJson = (file: string): unknown =>
    JSON.parse(readFileSync(path.join(projectDir, file), 'utf8'));
  const result = runtimePackage(
    readJson('package.json') as ProjectPackage,
    readJson('package-lock.json') as PackageLock,
  );
  mkdirSync(outputDir, { recursive: true });
  writeFileSync(
    path.join(outputDir, 'package.json'),
    `${JSON.stringify(result.packageJson, null, 2)}\n`,
  );
  writeFileSync(
    path.join(outputDir, 'package-lock.json'),
    `${JSON.stringify(result.packageLock, null, 2)}\n`,
  );
}

if (
  process.argv[1] !== undefined &&
  path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)
) {
  const [projectDir, outputDir] = process.argv.slice(2);
  if (projectDir === undefined || outputDir === undefined) {
    throw new Error('usage: node runtime-package.js <project dir> <output dir>');
  }
  writeRuntimePackage(projectDir, outputDir);
}
