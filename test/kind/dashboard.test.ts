import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, chromiumPath, printedUrl, screenshots } from '../helpers/browser.js';
import { reachableKindCluster } from './cluster.js';

/**
 * The dashboard on the real kind cluster: the pods it draws come from real watches, and a
 * blast from the page goes through a real kube-proxy. Opt-in with the rest of the kind suite;
 * skips with one line where no kind cluster answers or no Chromium is installed.
 */

const root = path.resolve(import.meta.dirname, '../..');
const cli = path.join(root, 'bin/replica-demo.js');

const executablePath = chromiumPath();
const cluster = await reachableKindCluster();
const ready = cluster !== undefined && executablePath !== undefined;
if (!ready)
  console.log(
    'kind dashboard case skipped: it needs a kind cluster that answers and a Chromium (apt-get install chromium)',
  );

describe.skipIf(!ready)(`the dashboard on kind cluster ${cluster ?? ''}`, () => {
  let home: string;
  let dashboard: ResultPromise | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const shot = screenshots('kind-dashboard');
  const run = (args: string[]) =>
    execa('node', [cli, ...args], {
      reject: false,
      env: { REPLICA_DEMO_HOME: home, NO_COLOR: '1' },
      timeout: 540_000,
    });

  beforeAll(async () => {
    home = mkdtempSync(path.join(os.tmpdir(), 'replica-demo-kind-dashboard-'));
    const up = await run(['up', '--cluster', cluster ?? '']);
    expect(up.exitCode, up.stderr).toBe(0);
    dashboard = execa('node', [cli, 'dashboard'], {
      reject: false,
      env: { REPLICA_DEMO_HOME: home, NO_COLOR: '1' },
    });
    const url = await printedUrl(dashboard);
    browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(url);
  });

  afterAll(async () => {
    await browser?.close();
    dashboard?.kill('SIGINT');
    if (dashboard !== undefined) expect((await dashboard).exitCode).toBe(0);
    await run(['down', '--yes']);
    rmSync(home, { recursive: true, force: true });
  });

  const pageValue = <T>(expression: string) => page.evaluate<T>(expression);
  async function until(expression: string, timeout = 60_000): Promise<void> {
    const deadline = Date.now() + timeout;
    while (!(await pageValue<boolean>(expression))) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${expression}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('draws the 5 pods on the two workers, and a blast of 200 fills 5 bars that add up to 200', async () => {
    await until(`document.querySelectorAll('.pod-card[data-state="Ready"]').length === 5`);
    const nodes = await pageValue<string[]>(
      `[...document.querySelectorAll('.node')].filter((n) => n.querySelector('.pod-card')).map((n) => n.dataset.node)`,
    );
    expect(nodes.sort()).toEqual(['kind-worker', 'kind-worker2']);
    await shot(page, 'pods');
    await page.fill('#blast-form input[name=count]', '200');
    await page.selectOption('#blast-form select[name=via]', 'service');
    await page.click('#blast-form button[type=submit]');
    await page.waitForSelector('#leg-service[data-done="true"]', { timeout: 120_000 });
    const bars = await pageValue<{ pod: string; count: number }[]>(
      `[...document.querySelectorAll('#leg-service .bar')].map((b) => ({ pod: b.dataset.pod, count: Number(b.dataset.count) }))`,
    );
    await shot(page, 'blast');
    expect(bars.filter((b) => b.count > 0)).toHaveLength(5);
    expect(bars.reduce((sum, b) => sum + b.count, 0)).toBe(200);
  });

  it('kills a pod from its card: the real ReplicaSet replaces it and the timeline reaches Ready', async () => {
    const readyCards = () =>
      pageValue<string[]>(
        `[...document.querySelectorAll('.pod-card[data-state="Ready"]')].map((c) => c.dataset.pod)`,
      );
    await page.waitForSelector('.pod-card button:not([disabled])');
    const before = await readyCards();
    const victim = before[0] ?? '';
    await page.click(`.pod-card[data-pod="${victim}"] button`);
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-kill');
    await until(
      `[...document.querySelectorAll('#timeline li')].some((li) => li.textContent.includes('Ready'))`,
    );
    await until(
      `!document.querySelector('.pod-card[data-pod="${victim}"]') && document.querySelectorAll('.pod-card[data-state="Ready"]').length === 5`,
      120_000,
    );
    await shot(page, 'kill');
    const after = await readyCards();
    expect(after).not.toContain(victim);
    expect(after.filter((p) => !before.includes(p))).toHaveLength(1);
  });
});
