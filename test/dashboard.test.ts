import http from 'node:http';
import type { ResultPromise } from 'execa';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from './blast-support.js';
import { CHROMIUM_ARGS, chromiumPath, screenshots, printedUrl } from './helpers/browser.js';

/**
 * `replica-demo dashboard` on the embedded cluster, in a real headless Chromium: the pods,
 * a blast through the Service and through port-forward, a kill, a scale, and the guards
 * on the requests that change the cluster.
 */

const executablePath = chromiumPath();
if (executablePath === undefined)
  console.warn('dashboard tests skipped: no chromium executable (apt-get install chromium)');

let lab: Lab;
let dashboard: ResultPromise | undefined;
let base = '';
let token = '';
let browser: Browser;
let page: Page;
const shot = screenshots('dashboard');

function request(
  method: string,
  urlPath: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; text: string }> {
  const url = new URL(urlPath, base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The value of `expression`, run in the page (the tests' types know no DOM). */
async function pageValue<T>(expression: string): Promise<T> {
  return page.evaluate<T>(expression);
}

/** The bars of one leg of the blast, once the CLI's result has been drawn. */
async function legBars(leg: string): Promise<{ pod: string; count: number }[]> {
  await page.waitForSelector(`#leg-${leg}[data-done="true"]`, { timeout: 90_000 });
  return pageValue(
    `[...document.querySelectorAll('#leg-${leg} .bar')].map((b) => ({ pod: b.dataset.pod, count: Number(b.dataset.count) }))`,
  );
}

async function blastFromPage(count: number, via: string): Promise<void> {
  await page.fill('#blast-form input[name=count]', String(count));
  await page.selectOption('#blast-form select[name=via]', via);
  await page.click('#blast-form button[type=submit]');
}

/** Waits until `expression`, run in the page, is true. */
async function pageUntil(expression: string, timeout = 60_000): Promise<void> {
  // Polled from here: waitForFunction would evaluate the text inside the page, which the
  // page's Content-Security-Policy (no eval) rightly refuses.
  const deadline = Date.now() + timeout;
  while (!(await page.evaluate<boolean>(expression))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const READY_CARDS = 'document.querySelectorAll(\'.pod-card[data-state="Ready"]\').length';

async function readyCards(): Promise<string[]> {
  return pageValue(
    `[...document.querySelectorAll('.pod-card[data-state="Ready"]')].map((c) => c.dataset.pod)`,
  );
}

describe.skipIf(executablePath === undefined)('dashboard in Chromium', () => {
  beforeAll(async () => {
    lab = await startLab('dashboard-tests');
    const up = await lab.run(['up', '--sim'], 240_000);
    expect(up.exitCode, up.stderr).toBe(0);
    dashboard = lab.spawn(['dashboard']);
    const url = await printedUrl(dashboard);
    base = new URL(url).origin;
    token = new URL(url).searchParams.get('token') ?? '';
    browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(url);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    if (dashboard !== undefined) {
      dashboard.kill('SIGINT');
      // Ctrl-C stops the dashboard with exit 0, as `logs -f` does.
      expect((await dashboard).exitCode).toBe(0);
    }
    expect(await lab?.close()).toEqual([]);
  }, 120_000);

  it('shows the 5 pods as cards, by node, each with its replica id, IP and state', async () => {
    await pageUntil(`${READY_CARDS} === 5`, 30_000);
    expect(await page.locator('.pod-card').count()).toBe(5);
    const first = page.locator('.pod-card').first();
    expect(await first.textContent()).toMatch(/127\.\d+\.\d+\.\d+/);
    expect(await page.locator('.node').count()).toBeGreaterThan(1);
    expect(await page.textContent('#connection')).toBe('Live');
    await shot(page, 'pods');
  });

  it("blasts 200 through the Service: 5 bars add up to 200, then the CLI's verdict", async () => {
    await blastFromPage(200, 'service');
    await pageUntil(
      `[...document.querySelectorAll('#leg-service .bar')].some((b) => Number(b.dataset.count) > 0)`,
    )
      .then(() => shot(page, 'blast-filling'))
      .catch(() => undefined);
    const bars = await legBars('service');
    expect(bars).toHaveLength(5);
    expect(bars.reduce((sum, b) => sum + b.count, 0)).toBe(200);
    const prose = await page.textContent('#leg-service .prose');
    expect(prose).toContain('total 200 requests, 200 answered by a pod, 0 errors');
    expect(prose).toMatch(/latency p50 [\d.]+ ms/);
    expect(prose).toContain(
      "Why it spreads: every request opened its own TCP connection (Connection: close), and the embedded cluster's Service proxy picks",
    );
    await shot(page, 'blast-service');
  });

  it('blasts through port-forward: one bar fills, the others stay empty', async () => {
    await page.waitForSelector('#blast-form button[type=submit]:not([disabled])');
    await blastFromPage(40, 'port-forward');
    const bars = await legBars('port-forward');
    const filled = bars.filter((b) => b.count > 0);
    expect(filled).toHaveLength(1);
    expect(filled[0]?.count).toBe(40);
    expect(await page.textContent('#leg-port-forward .prose')).toContain('Why one pod');
    await shot(page, 'blast-port-forward');
  });

  it('works from the keyboard alone, names each colour, and has large type for a projector', async () => {
    const fontSize = `parseFloat(getComputedStyle(document.documentElement).fontSize)`;
    const before = await pageValue<number>(fontSize);
    await page.focus('#large');
    await page.keyboard.press('Enter');
    expect(await page.getAttribute('#large', 'aria-pressed')).toBe('true');
    expect(await pageValue<number>(fontSize)).toBeGreaterThanOrEqual(before * 1.4);
    await shot(page, 'large-type');
    await page.keyboard.press('Enter');
    expect(await pageValue<number>(fontSize)).toBe(before);
    // Tab reaches a Kill button; Enter asks first, with the focus on Kill; Escape cancels.
    let focused = '';
    for (let i = 0; i < 40 && !focused.startsWith('Kill pod'); i += 1) {
      await page.keyboard.press('Tab');
      focused = await pageValue<string>(`document.activeElement?.getAttribute('aria-label') ?? ''`);
    }
    expect(focused).toMatch(/^Kill pod web-server-deployment-/);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#confirm[open]');
    expect(await pageValue<string>('document.activeElement.id')).toBe('confirm-kill');
    await page.keyboard.press('Escape');
    await pageUntil(`!document.querySelector('#confirm').open`);
    expect(await page.textContent('#timeline')).toBe('');
    const colours = await pageValue<string[]>(
      `[...document.querySelectorAll('.pod-card .colour')].map((c) => c.textContent)`,
    );
    expect(new Set(colours).size).toBe(5);
  });

  it('kills a pod after confirmation: its card goes, the replacement comes, the timeline reaches Ready', async () => {
    await page.waitForSelector('.pod-card button:not([disabled])');
    const before = await readyCards();
    const victim = before[0] ?? '';
    await page.click(`.pod-card[data-pod="${victim}"] button`);
    await page.waitForSelector('#confirm[open]');
    await shot(page, 'kill-confirm');
    await page.click('#confirm-kill');
    await pageUntil(
      `[...document.querySelectorAll('#timeline li')].some((li) => li.textContent.includes('Ready'))`,
    );
    await pageUntil(
      `!document.querySelector('.pod-card[data-pod="${victim}"]') && ${READY_CARDS} === 5`,
    );
    const after = await readyCards();
    expect(after).not.toContain(victim);
    expect(after.filter((p) => !before.includes(p))).toHaveLength(1);
    const timeline = await pageValue<string[]>(
      `[...document.querySelectorAll('#timeline li')].map((li) => li.textContent)`,
    );
    expect(timeline.join('\n')).toContain(`deleted ${victim}`);
    await shot(page, 'kill-replaced');
  });

  it('scales to 6 from the page, and back to 5', async () => {
    await page.waitForSelector('#scale-form button:not([disabled])');
    await page.fill('#replicas', '6');
    await page.click('#scale-form button');
    await pageUntil(`${READY_CARDS} === 6`);
    await shot(page, 'scaled-6');
    await page.waitForSelector('#scale-form button:not([disabled])');
    await page.fill('#replicas', '5');
    await page.click('#scale-form button');
    await pageUntil(`document.querySelectorAll('.pod-card:not(.terminating)').length === 5`);
  });

  it('refuses a state-changing request without the token, or from another origin (403)', async () => {
    const body = JSON.stringify({ replicas: 3 });
    const json = { 'Content-Type': 'application/json', Origin: base };
    const none = await request('POST', '/api/scale', json, body);
    expect(none.status).toBe(403);
    const wrong = await request(
      'POST',
      '/api/scale',
      { ...json, 'X-Replica-Demo-Token': 'x'.repeat(32) },
      body,
    );
    expect(wrong.status).toBe(403);
    const foreign = await request(
      'POST',
      '/api/scale',
      { ...json, Origin: 'http://evil.example', 'X-Replica-Demo-Token': token },
      body,
    );
    expect(foreign.status).toBe(403);
    // From the page itself, without the token: refused too.
    const fromPage = await page.evaluate(async () => {
      const res = await fetch('/api/scale', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ replicas: 3 }),
      });
      return res.status;
    });
    expect(fromPage).toBe(403);
    expect(await page.locator('.pod-card:not(.terminating)').count()).toBe(5);
    const events = await request('GET', '/events', {});
    expect(events.status).toBe(403);
  });

  it('kills under load: the failed requests per second, drawn and told', async () => {
    await page.waitForSelector('.pod-card button:not([disabled])');
    const victim = (await readyCards())[0] ?? '';
    await page.click(`.pod-card[data-pod="${victim}"] button`);
    await page.check('#under-load');
    await page.click('#confirm-kill');
    await pageUntil(`document.querySelectorAll('#load .load div').length > 10`, 120_000);
    const heading = await page.textContent('#load h3');
    expect(heading).toMatch(/^Requests per second during the kill: \d+, 0 failed/);
    // The command's own words come when the load has ended, after the bars.
    await pageUntil(
      `[...document.querySelectorAll('#timeline li')].some((li) => li.textContent.includes('Requests per second through the Service'))`,
      120_000,
    );
    const lines = await pageValue<string[]>(
      `[...document.querySelectorAll('#timeline li')].map((li) => li.textContent)`,
    );
    expect(lines.join('\n')).toContain('Requests per second through the Service');
    expect(lines.join('\n')).toMatch(/0 of \d+ requests failed/);
    await shot(page, 'kill-under-load');
  });

  it("crashes a pod's process under load: the same card stays, the kubelet restarts it in place", async () => {
    await pageUntil(
      `document.querySelectorAll('.pod-card:not(.terminating)').length === 5 && !document.querySelector('#stop:not([hidden])')`,
      120_000,
    );
    const victim = (await readyCards())[0] ?? '';
    await page.click(`.pod-card[data-pod="${victim}"] button`);
    await page.uncheck('#under-load');
    await page.check('#crash');
    await page.click('#confirm-kill');
    await pageUntil(
      `[...document.querySelectorAll('#timeline li')].some((li) => li.textContent.includes('restarted the container in the same pod'))`,
      120_000,
    );
    const heading = await page.textContent('#load h3');
    expect(heading).toMatch(/^Requests per second during the kill: \d+, \d+ failed/);
    // No replacement: the pod that crashed is still there, among five.
    expect(await readyCards()).toContain(victim);
    expect(await page.locator('.pod-card:not(.terminating)').count()).toBe(5);
    await shot(page, 'crash-under-load');
    await page.evaluate(`document.getElementById('crash').checked = false`);
  }, 180_000);

  it('reconnects by itself when the connection goes dead', async () => {
    // A stopped process answers nothing and closes nothing, like a sleeping laptop's peer.
    const pid = dashboard?.pid ?? 0;
    process.kill(pid, 'SIGSTOP');
    try {
      await pageUntil(`document.querySelector('#connection').dataset.state === 'lost'`, 30_000);
      expect(await page.textContent('#connection')).toBe('Connection lost; reconnecting…');
      await shot(page, 'connection-lost');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await pageUntil(`document.querySelector('#connection').dataset.state === 'live'`, 30_000);
    expect(await page.locator('.pod-card').count()).toBeGreaterThanOrEqual(5);
  });

  it('stops a running blast on Stop, as Ctrl-C stops the command: partial bars, Job deleted', async () => {
    await page.waitForSelector('#blast-form button[type=submit]:not([disabled])');
    await blastFromPage(20_000, 'service');
    await pageUntil(
      `[...document.querySelectorAll('#leg-service .bar')].some((b) => Number(b.dataset.count) > 0)`,
    );
    await page.click('#stop');
    await pageUntil(`!document.querySelector('#message').hidden`, 60_000);
    expect(await page.textContent('#message')).toMatch(
      /^Interrupted: the results above are partial/,
    );
    const bars = await legBars('service');
    const answered = bars.reduce((sum, b) => sum + b.count, 0);
    expect(answered).toBeGreaterThan(0);
    expect(answered).toBeLessThan(20_000);
    expect(await page.textContent('#leg-service .prose')).toMatch(
      /partial: stopped by Ctrl-C after/,
    );
    const { batch } = lab.clients();
    const jobs = await batch.listNamespacedJob({ namespace: 'multi-replica-web' });
    expect(jobs.items.map((j) => j.metadata?.name)).toEqual([]);
    await shot(page, 'blast-stopped');
  });

  it('refuses a --port in use in one line naming it (exit 2)', async () => {
    const second = await lab.run(['dashboard', '--port', new URL(base).port], 60_000);
    expect(second.exitCode).toBe(2);
    expect(second.stderr.trim().split('\n').at(-1)).toMatch(/^Error: --port \d+ cannot be used/);
  });

  it('refuses a wrong Host header (403), whatever the path', async () => {
    const port = new URL(base).port;
    for (const host of [`evil.example:${port}`, 'localhost', `127.0.0.2:${port}`]) {
      const page403 = await request('GET', '/', { Host: host });
      expect(page403.status, host).toBe(403);
    }
    const post = await request(
      'POST',
      '/api/scale',
      {
        Host: `evil.example:${port}`,
        'Content-Type': 'application/json',
        'X-Replica-Demo-Token': token,
        Origin: `http://evil.example:${port}`,
      },
      '{"replicas":3}',
    );
    expect(post.status).toBe(403);
    expect((await request('GET', '/', { Host: `localhost:${port}` })).status).toBe(200);
  });

  it('says plainly when the cluster is gone', async () => {
    const stop = await lab.run(['sim', 'stop'], 60_000);
    expect(stop.exitCode, stop.stderr).toBe(0);
    await pageUntil(`!document.querySelector('#problem').hidden`, 30_000);
    expect(await page.textContent('#problem')).toMatch(/^The cluster is gone or does not answer/);
    expect(await page.locator('.pod-card').count()).toBe(0);
    await shot(page, 'cluster-gone');
  });
});
