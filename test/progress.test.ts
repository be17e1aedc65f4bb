import { PassThrough } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createPrinter } from '../src/cli/output.js';
import { barLine, countLine, duration, pace } from '../src/cli/render/progress.js';
import { visibleWidth } from '../src/cli/render/text.js';
import { fakeTerminal, screenLines } from './helpers/in-process.js';

/** Progress on long work: a bar with rate and time left on a terminal, calm lines in a log. */

describe('pace', () => {
  it('is the rate so far and the time left at that rate', () => {
    expect(pace(500, 2000, 2000)).toEqual({ perSecond: 250, secondsLeft: 6 });
  });

  it('is unknown before the first step or the first quarter second', () => {
    expect(pace(0, 2000, 5000)).toEqual({ perSecond: undefined, secondsLeft: undefined });
    expect(pace(10, 2000, 100)).toEqual({ perSecond: undefined, secondsLeft: undefined });
  });

  it('reads in whole units', () => {
    expect([duration(4.6), duration(185), duration(7260)]).toEqual([
      '5 s',
      '3 min 05 s',
      '2 h 01 min',
    ]);
  });
});

describe('the words of a counted step', () => {
  it('names the count, the share, the rate and the time left in a log line', () => {
    expect(countLine('Service', 1234, 20000, pace(1234, 20000, 2000))).toBe(
      'Service: 1234/20000 requests (6%), 617/s, about 30 s left',
    );
    expect(countLine('Port-forward', 0, 20, pace(0, 20, 0))).toBe(
      'Port-forward: 0/20 requests (0%)',
    );
  });

  it.each([60, 80, 120])('draws a bar that fits %i columns', (width) => {
    const line = barLine('Service', 5000, 20000, pace(5000, 20000, 10_000), width);
    expect(visibleWidth(line)).toBeLessThanOrEqual(width);
    expect(line).toMatch(/^Service █+░+ 5000\/20000/);
    // A quarter done: a quarter of the bar filled.
    const filled = line.split('█').length - 1;
    const empty = line.split('░').length - 1;
    expect(Math.abs(filled / (filled + empty) - 0.25)).toBeLessThan(0.05);
  });

  it('keeps the rate and the time left on a 60-column terminal', () => {
    const line = barLine('Port-forward', 5000, 20000, pace(5000, 20000, 10_000), 59);
    expect(line).toMatch(/^Port-forward █{3}░{7,} 5000\/20000 · 500\/s · 30 s left$/);
  });

  it('drops the rate before the bar gets too short to read', () => {
    const p = pace(5000, 20000, 10_000);
    expect(barLine('Service', 5000, 20000, p, 120)).toContain('· 500/s · 30 s left');
    const narrow = barLine('Port-forward', 5000, 20000, p, 54);
    expect(narrow).not.toContain('left');
    expect(narrow).toMatch(/█{3}░{9,} 5000\/20000$/);
  });
});

describe('the printer counting requests', () => {
  it('prints a line now and then in a log, with rate and time left, and no 0% line', () => {
    let now = 0;
    const stderr = new PassThrough();
    const printer = createPrinter({
      stdout: new PassThrough(),
      stderr,
      interactive: false,
      color: false,
      now: () => now,
    });
    const progress = printer.progress('Service: Job x sends 1000 requests');
    progress.count('Service', 0, 1000);
    now = 5000;
    progress.count('Service', 500, 1000);
    progress.succeed('Service: 1000 requests in 10.0 s');
    expect(String(stderr.read()).split('\n')).toEqual([
      '... Service: Job x sends 1000 requests',
      '... Service: 500/1000 requests (50%), 100/s, about 5 s left',
      'ok  Service: 1000 requests in 10.0 s',
      '',
    ]);
  });

  it('draws a bar on a terminal within its width, then one final line', async () => {
    const stderr = fakeTerminal(60);
    let now = 0;
    const printer = createPrinter({
      stdout: new PassThrough(),
      stderr,
      interactive: true,
      color: false,
      now: () => now,
      stderrWidth: () => 60,
    });
    await printer.prepare();
    const progress = printer.progress('Service: Job x sends 20000 requests');
    progress.count('Service', 0, 20000);
    now = 4000;
    progress.count('Service', 8000, 20000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    progress.succeed(`Service: 20000 requests in 10.0 s to ${'a-long-pod-name '.repeat(4).trim()}`);
    const raw = String(stderr.read());
    const screen = stripVTControlCharacters(raw);
    expect(screen).toMatch(/Service █+░+ 8000\/20000 · 2000\/s · 6 s left/);
    // Each drawing starts at column 1 of a cleared line: none may be wider than the terminal.
    const drawings = screenLines(raw);
    expect(drawings.filter((d) => d.includes('8000/20000'))).not.toEqual([]);
    for (const drawing of drawings) expect(visibleWidth(drawing)).toBeLessThanOrEqual(60);
    // The final line is kept whole, wrapped under its text.
    expect(drawings.filter((d) => d.trim() !== '').slice(-2)).toEqual([
      '✔ Service: 20000 requests in 10.0 s to a-long-pod-name',
      '  a-long-pod-name a-long-pod-name a-long-pod-name',
    ]);
  });
});
