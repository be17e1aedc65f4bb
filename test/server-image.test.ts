import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  SERVER_RUNTIME_DEPENDENCIES,
  runtimePackage,
  type PackageLock,
  type ProjectPackage,
} from '../src/server/image/runtime-package.js';

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

describe('the server image installs only what the server imports', () => {
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

  it('keeps express and its locked dependency tree, and nothing of the CLI', () => {
    const { packageJson, packageLock } = runtimePackage(project, lock);
    expect(packageJson).toEqual({
      name: `${project.name}-server`,
      version: project.version,
      private: true,
      type: 'module',
      dependencies: { express: project.dependencies?.express },
    });
    const keys = Object.keys(packageLock.packages);
    expect(packageLock.packages['node_modules/express']?.version).toBe(
      lock.packages['node_modules/express']?.version,
    );
    expect(keys).toContain('node_modules/router');
    expect(keys).toContain('node_modules/body-parser');
    expect(keys.some((key) => key.includes('@kubernetes/client-node'))).toBe(false);
    expect(keys.some((key) => key.includes('commander'))).toBe(false);
    // Every kept entry is exactly the project's locked one, so `npm ci` installs the same bytes.
    for (const key of keys.filter((key) => key !== '')) {
      const kept = packageLock.packages[key];
      const original = lock.packages[key];
      expect(kept?.version).toBe(original?.version);
      expect(kept?.integrity).toBe(original?.integrity);
    }
  });

  it('leaves no dependency of a kept package unresolved', () => {
    const { packageLock } = runtimePackage(project, lock);
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
    expect(() => runtimePackage(project, partial)).toThrow(
      "package-lock.json has no entry for 'router' (needed by 'node_modules/express'); run npm install",
    );
    expect(() => runtimePackage({ name: 'x', version: '1.0.0' }, lock)).toThrow(
      "package.json does not list 'express' under dependencies; add it",
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
    const { packageLock } = runtimePackage(
      { name: 'p', version: '1.0.0', dependencies: { a: '^1' } },
      nested,
      ['a'],
    );
    expect(Object.keys(packageLock.packages)).toEqual([
      '',
      'node_modules/a',
      'node_modules/a/node_modules/b',
    ]);
  });
});
