import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  SERVER_BUILD_DEPENDENCIES,
  SERVER_IMAGE_PACKAGE_DIR,
  SERVER_RUNTIME_DEPENDENCIES,
  serverImagePackage,
  serverImagePackageFiles,
  type PackageLock,
  type ProjectPackage,
} from '../scripts/server-image-package.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const readJson = (file: string): unknown => JSON.parse(readFileSync(path.join(root, file), 'utf8'));
const project = readJson('package.json') as ProjectPackage;
const lock = readJson('package-lock.json') as PackageLock;

function serverSources(dir = path.join(root, 'src/server')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? serverSources(path.join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [path.join(dir, entry.name)]
        : [],
  );
}

describe('the server image installs only what the server imports and what builds it', () => {
  it('the server imports nothing but Node built-ins, its own files and the listed packages', () => {
    const imported = new Set<string>();
    for (const file of serverSources()) {
      const source = readFileSync(file, 'utf8');
      for (const match of source.matchAll(/\bfrom\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)) {
        const specifier = match[1] ?? match[2] ?? '';
        if (specifier.startsWith('node:') || specifier.startsWith('.')) continue;
        imported.add(
          specifier.startsWith('@')
            ? specifier.split('/').slice(0, 2).join('/')
            : (specifier.split('/')[0] ?? specifier),
        );
      }
    }
    expect([...imported].sort()).toEqual([...SERVER_RUNTIME_DEPENDENCIES].sort());
  });

  it('keeps express, the compiler and the types with their locked trees, and nothing of the CLI', () => {
    const { packageJson, packageLock } = serverImagePackage(project, lock);
    expect(packageJson).toMatchObject({
      name: `${project.name}-server`,
      version: project.version,
      private: true,
      type: 'module',
      dependencies: { express: project.dependencies?.express },
      devDependencies: {
        '@types/express': project.devDependencies?.['@types/express'],
        '@types/node': project.devDependencies?.['@types/node'],
        typescript: project.devDependencies?.typescript,
      },
    });
    expect(Object.keys(packageJson.devDependencies)).toEqual([...SERVER_BUILD_DEPENDENCIES]);
    const keys = Object.keys(packageLock.packages);
    expect(packageLock.packages['node_modules/express']?.version).toBe(
      lock.packages['node_modules/express']?.version,
    );
    expect(keys).toContain('node_modules/router');
    expect(keys).toContain('node_modules/body-parser');
    expect(keys.some((key) => key.includes('@kubernetes/client-node'))).toBe(false);
    expect(keys.some((key) => key.includes('commander'))).toBe(false);
    for (const tool of ['vitest', 'eslint', 'knip', 'prettier', 'tsx']) {
      expect(keys).not.toContain(`node_modules/${tool}`);
    }
    // Every kept entry is exactly the project's locked one, so `npm ci` installs the same bytes.
    for (const key of keys.filter((key) => key !== '')) {
      const kept = packageLock.packages[key];
      const original = lock.packages[key];
      expect(kept?.version).toBe(original?.version);
      expect(kept?.integrity).toBe(original?.integrity);
    }
  });

  it('marks what only the build needs as dev, so `npm prune --omit=dev` leaves express alone', () => {
    const { packageLock } = serverImagePackage(project, lock);
    const flags = (key: string) => packageLock.packages[key]?.dev;
    expect(flags('node_modules/typescript')).toBe(true);
    expect(flags('node_modules/@types/express')).toBe(true);
    // The project marks @types/node as a production package (the CLI's client pulls it in);
    // here nothing at run time needs it.
    expect(lock.packages['node_modules/@types/node']?.dev).toBeUndefined();
    expect(flags('node_modules/@types/node')).toBe(true);
    expect(flags('node_modules/express')).toBeUndefined();
    expect(flags('node_modules/router')).toBeUndefined();
    expect(flags('node_modules/body-parser')).toBeUndefined();
  });

  it('marks a package both parts need as a runtime one', () => {
    const shared: PackageLock = {
      lockfileVersion: 3,
      packages: {
        '': {},
        'node_modules/app': { version: '1.0.0', dependencies: { shared: '^1' } },
        'node_modules/tool': { version: '1.0.0', dev: true, dependencies: { shared: '^1' } },
        'node_modules/shared': { version: '1.0.0', dev: true },
      },
    };
    const { packageLock } = serverImagePackage(
      { name: 'p', version: '1.0.0', dependencies: { app: '^1' }, devDependencies: { tool: '^1' } },
      shared,
      ['app'],
      ['tool'],
    );
    expect(packageLock.packages['node_modules/shared']).toEqual({ version: '1.0.0' });
    expect(packageLock.packages['node_modules/tool']).toEqual({
      version: '1.0.0',
      dev: true,
      dependencies: { shared: '^1' },
    });
  });

  it(`is what ${SERVER_IMAGE_PACKAGE_DIR} holds (after a dependency change, run \`npm run image:package\`)`, () => {
    for (const [file, text] of Object.entries(serverImagePackageFiles(root))) {
      expect(readFileSync(path.join(root, SERVER_IMAGE_PACKAGE_DIR, file), 'utf8'), file).toBe(
        text,
      );
    }
  });

  it('leaves no dependency of a kept package unresolved', () => {
    const { packageLock } = serverImagePackage(project, lock);
    const packages = packageLock.packages;
    const resolves = (from: string, name: string): boolean => {
      let base = from;
      for (;;) {
        const candidate = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`;
        if (packages[candidate] !== undefined) return true;
        if (base === '') return false;
        const parent = base.lastIndexOf('/node_modules/');
        base = parent === -1 ? '' : base.slice(0, parent);
      }
    };
    for (const [key, entry] of Object.entries(packages)) {
      for (const name of Object.keys(entry.dependencies ?? {})) {
        expect(resolves(key, name), `${key} needs ${name}`).toBe(true);
      }
    }
  });

  it('names what is missing instead of writing a broken lockfile', () => {
    const partial: PackageLock = {
      lockfileVersion: 3,
      packages: {
        '': {},
        'node_modules/express': { version: '5.3.0', dependencies: { router: '^2.2.0' } },
      },
    };
    expect(() => serverImagePackage(project, partial, ['express'], [])).toThrow(
      "package-lock.json has no entry for 'router' (needed by 'node_modules/express'); run npm install",
    );
    expect(() => serverImagePackage({ name: 'x', version: '1.0.0' }, lock)).toThrow(
      "package.json lists 'express' under neither dependencies nor devDependencies; add it",
    );
  });

  it('resolves a nested copy before the top-level one, as Node does', () => {
    const nested: PackageLock = {
      lockfileVersion: 3,
      packages: {
        '': {},
        'node_modules/a': { version: '1.0.0', dependencies: { b: '^2' } },
        'node_modules/a/node_modules/b': { version: '2.0.0' },
        'node_modules/b': { version: '1.0.0' },
        'node_modules/unused': { version: '1.0.0' },
      },
    };
    const { packageLock } = serverImagePackage(
      { name: 'p', version: '1.0.0', dependencies: { a: '^1' } },
      nested,
      ['a'],
      [],
    );
    expect(Object.keys(packageLock.packages)).toEqual([
      '',
      'node_modules/a',
      'node_modules/a/node_modules/b',
    ]);
  });
});
