import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { selfCommand } from '../src/cli/context.js';
import { createPrinter } from '../src/cli/output.js';
import { runMain } from './helpers/in-process.js';

/** The command line's own manners: colour, version, hints written as the user types them. */

const ESC = String.fromCharCode(27);

describe('colour', () => {
  const bad = ['blast', '--count', 'abc'];

  it('is used when forced and dropped by --no-color, before or after the command', async () => {
    const env = { FORCE_COLOR: '1' };
    expect((await runMain(bad, env)).stderr).toContain(`${ESC}[31mError:`);
    for (const args of [
      ['--no-color', ...bad],
      [...bad, '--no-color'],
    ]) {
      const run = await runMain(args, env);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^Error: --count "abc" is not a whole number/);
      expect(run.stderr).not.toContain(ESC);
    }
  });

  it('is dropped when NO_COLOR is set', async () => {
    const run = await runMain(bad, { FORCE_COLOR: '1', NO_COLOR: '1' });
    expect(run.stderr).not.toContain(ESC);
  });

  it('leaves an argument after -- alone', async () => {
    const run = await runMain([...bad, '--', '--no-color'], { FORCE_COLOR: '1' });
    expect(run.stderr).toContain(ESC);
  });
});

describe('version', () => {
  it.each([['--version'], ['-V']])('%s prints the package version and exits 0', async (flag) => {
    const run = await runMain([flag], {});
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('hints name the tool as the user can type it', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'replica-demo-self-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const script = path.join(dir, 'replica-demo.js');
  writeFileSync(script, '');

  it('says `replica-demo` when that name on PATH is this program', () => {
    const global = mkdtempSync(path.join(dir, 'global-'));
    symlinkSync(script, path.join(global, 'replica-demo'));
    expect(selfCommand({ PATH: `/usr/bin${path.delimiter}${global}` }, script)).toBe(
      'replica-demo',
    );
  });

  it('says `npx replica-demo` when it is not installed, or is another copy, or runs under npx', () => {
    const other = mkdtempSync(path.join(dir, 'other-'));
    writeFileSync(path.join(other, 'replica-demo'), '');
    expect(selfCommand({ PATH: '/usr/bin' }, script)).toBe('npx replica-demo');
    expect(selfCommand({ PATH: other }, script)).toBe('npx replica-demo');
    const cache = mkdtempSync(path.join(dir, 'npx-cache-'));
    symlinkSync(script, path.join(cache, 'replica-demo'));
    expect(selfCommand({ PATH: cache, npm_command: 'exec' }, script)).toBe('npx replica-demo');
    expect(selfCommand({ PATH: cache }, undefined)).toBe('npx replica-demo');
  });

  it('rewrites every command in backquotes, then fits the terminal', () => {
    const stderr = new PassThrough();
    const printer = createPrinter({
      stdout: new PassThrough(),
      stderr,
      interactive: false,
      color: false,
      self: 'npx replica-demo',
      stderrWidth: () => 60,
    });
    printer.note(
      'Run `replica-demo up --sim` for the embedded cluster (no Docker needed), or `replica-demo up` for kind.',
    );
    const lines = String(stderr.read()).trimEnd().split('\n');
    expect(lines.join(' ')).toBe(
      'Run `npx replica-demo up --sim` for the embedded cluster (no Docker needed), or `npx replica-demo up` for kind.',
    );
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(60);
  });
});
