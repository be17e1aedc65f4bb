import { Chalk } from 'chalk';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assignColours, PALETTE_SIZE } from '../src/cli/core/colours.js';
import { podColours } from '../src/cli/pod-colours.js';
import { paintNames, podPainter } from '../src/cli/render/colours.js';

/** A pod keeps its colour across commands; a new pod never takes one a live pod has. */

const pods = ['web-a', 'web-b', 'web-c', 'web-d', 'web-e'];

describe('assignColours', () => {
  it('gives new pods the lowest free colours, in name order, whatever the list order', () => {
    expect(assignColours({}, [...pods].reverse())).toEqual({
      'web-a': 0,
      'web-b': 1,
      'web-c': 2,
      'web-d': 3,
      'web-e': 4,
    });
  });

  it('keeps the colours pods had, forgets gone pods, and gives a replacement a free one', () => {
    const before = assignColours({}, pods);
    // web-c is killed; web-f replaces it while web-c is still terminating.
    const during = assignColours(before, [...pods, 'web-f']);
    expect(during['web-f']).toBe(5);
    const after = assignColours(during, ['web-a', 'web-b', 'web-d', 'web-e', 'web-f']);
    expect(after).toEqual({ 'web-a': 0, 'web-b': 1, 'web-d': 3, 'web-e': 4, 'web-f': 5 });
    // The next new pod takes web-c's old colour, now free.
    expect(assignColours(after, [...Object.keys(after), 'web-g'])['web-g']).toBe(2);
  });

  it('shares colours only when there are more pods than colours', () => {
    const many = Array.from(
      { length: PALETTE_SIZE + 2 },
      (_, i) => `pod-${String(i).padStart(2, '0')}`,
    );
    const colours = assignColours({}, many);
    expect(new Set(Object.values(colours).slice(0, PALETTE_SIZE)).size).toBe(PALETTE_SIZE);
    for (const index of Object.values(colours)) expect(index).toBeLessThan(PALETTE_SIZE);
  });

  it('ignores remembered values that are not colours', () => {
    expect(
      assignColours({ 'web-a': 99, 'web-b': -1, 'web-c': 1.5 }, ['web-a', 'web-b', 'web-c']),
    ).toEqual({
      'web-a': 0,
      'web-b': 1,
      'web-c': 2,
    });
  });
});

describe('painting', () => {
  const color = new Chalk({ level: 1 });
  const paint = podPainter(color, { 'web-a': 0, 'web-b': 1 });

  it('paints each pod in its own colour, and text on its behalf the same way', () => {
    expect(paint('web-a')).toBe(color.cyan('web-a'));
    expect(paint('web-b', '███')).toBe(color.magenta('███'));
    expect(paint('web-z')).toBe('web-z');
  });

  it('paints whole names in a line, not parts of longer words', () => {
    expect(
      paintNames('deleted web-a; web-ab stays; web-b replaced it', ['web-a', 'web-b'], paint),
    ).toBe(`deleted ${color.cyan('web-a')}; web-ab stays; ${color.magenta('web-b')} replaced it`);
  });
});

describe('remembering', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'replica-demo-colours-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));
  const ctx = { home, printer: { color: new Chalk({ level: 1 }) } } as Parameters<
    typeof podColours
  >[0];

  it('keeps the colours in the home for the next command, and survives a damaged file', async () => {
    await podColours(ctx, ['web-b', 'web-a']);
    const file = path.join(home, 'pod-colours.json');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ 'web-a': 0, 'web-b': 1 });
    const paint = await podColours(ctx, ['web-b', 'web-c']);
    expect(paint('web-b')).toBe(new Chalk({ level: 1 }).magenta('web-b'));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ 'web-b': 1, 'web-c': 0 });
    writeFileSync(file, 'not json');
    expect((await podColours(ctx, ['web-x']))('web-x')).toBe(new Chalk({ level: 1 }).cyan('web-x'));
  });
});
