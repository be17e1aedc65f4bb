import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { ResultPromise } from 'execa';
import type { Page } from 'playwright-core';
import { ROOT } from '../blast-support.js';

/**
 * Debian's chromium, driven headless by playwright-core (no browser is downloaded). A test
 * that needs it skips, saying why, where none is installed.
 */

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const given = env.REPLICA_DEMO_CHROMIUM;
  if (given !== undefined && given !== '') return existsSync(given) ? given : undefined;
  return CANDIDATES.find((file) => existsSync(file));
}

/** Headless as root, and no traffic of the browser's own (updates, metrics, sync). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-default-apps',
  '--disable-domain-reliability',
  '--disable-sync',
  '--metrics-recording-only',
  '--no-first-run',
  '--no-default-browser-check',
];

/** Screenshots of each step, kept with the test output (git-ignored). */
export function screenshots(name: string): (page: Page, step: string) => Promise<string> {
  const dir = path.join(ROOT, 'test-output', name);
  // Only this run's steps, numbered in order.
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  let n = 0;
  return async (page, step) => {
    n += 1;
    const file = path.join(dir, `${String(n).padStart(2, '0')}-${step}.png`);
    await page.screenshot({ path: file, fullPage: true });
    console.log(`screenshot: ${path.relative(ROOT, file)}`);
    return file;
  };
}

/** The URL the dashboard prints on stdout. */
export async function printedUrl(child: ResultPromise): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const url = /http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+/.exec(out)?.[0];
      if (url) {
        clearTimeout(timer);
        resolve(url);
      }
    });
  });
}
