import { describe, expect, it } from 'vitest';
import { runMain } from './helpers/in-process.js';

/** The command line's own manners: colour, version. */

const ESC = String.fromCharCode(27);

describe('colour', () => {
  const bad = ['blast', '--count', 'abc'];

  it('is used when forced and dropped by --no-color, before or after the command', async () => {
    const env = { FORCE_COLOR: '1' };
    expect((await runMain(bad, env)).stderr).toContain(`${ESC}[31mError:`);
    for (const args of [['--no-color', ...bad], [...bad, '--no-color']]) {
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
