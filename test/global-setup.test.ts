import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { staleSource } from './global-setup.js';

/** The check that makes the suite build dist/ before it runs anything from it. */

const root = mkdtempSync(path.join(os.tmpdir(), 'replica-demo-stale-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function file(relative: string, secondsAgo: number): void {
  const full = path.join(root, relative);
  mkdirSync(path.dirname(full), { recursive: true });
  writeFileSync(full, '');
  const at = Date.now() / 1000 - secondsAgo;
  utimesSync(full, at, at);
}

describe('staleSource', () => {
  it('names the source newer than its build, a source with no build, and nothing when all are built', () => {
    file('src/cli/main.ts', 60);
    file('dist/cli/main.js', 30);
    file('src/sim/types.d.ts', 10);
    expect(staleSource(root)).toBeUndefined();

    file('src/cli/main.ts', 5);
    expect(staleSource(root)).toBe(path.join('cli', 'main.ts'));

    file('dist/cli/main.js', 1);
    file('src/server/app.ts', 60);
    expect(staleSource(root)).toBe(path.join('server', 'app.ts'));
  });
});
