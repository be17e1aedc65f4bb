import type {
  ClusterView,
  DashboardEvents,
  Leg,
  LegRow,
  PodCard,
} from '../cli/dashboard/protocol.js';

/**
 * The dashboard page: the cluster's pods live from the server's event stream, and the
 * lesson's actions on buttons. Every request that changes the cluster carries the token
 * from the page's URL.
 */

const TOKEN = new URLSearchParams(location.search).get('token') ?? '';
const COLOUR_NAMES = [
  'cyan',
  'magenta',
  'yellow',
  'green',
  'blue',
  'light cyan',
  'light magenta',
  'light yellow',
  'light green',
  'light blue',
];

function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing`);
  return el;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<Record<string, string>> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined) continue;
    if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

let view: ClusterView | undefined;
let action: string | null = null;

function colourOf(pod: string): number | null {
  return view?.pods.find((p) => p.name === pod)?.colour ?? null;
}

function paint(node: HTMLElement, colour: number | null): void {
  node.style.setProperty('--pod', colour === null ? '#8a96a3' : `var(--c${colour % 10})`);
}

function age(createdAt: number | null): string {
  if (createdAt === null) return '?';
  const s = Math.max(0, Math.floor((Date.now() - createdAt) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ''}`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

function card(pod: PodCard): HTMLElement {
  const kill = el('button', { type: 'button', 'aria-label': `Kill pod ${pod.name}` }, 'Kill');
  kill.addEventListener('click', () => confirmKill(pod.name));
  if (pod.terminating || action !== null) kill.setAttribute('disabled', '');
  const colour = pod.colour === null ? 'no colour yet' : (COLOUR_NAMES[pod.colour % 10] ?? '');
  const node = el(
    'article',
    {
      class: `pod-card${pod.terminating ? ' terminating' : ''}`,
      'data-pod': pod.name,
      'data-state': pod.state,
      'aria-label': `Pod ${pod.replicaId}, ${pod.state}`,
    },
    el('span', { class: 'id', text: pod.replicaId, title: pod.name }),
    kill,
    el('span', { class: 'state', 'data-ready': String(pod.ready), text: pod.state }),
    el('span', { class: 'muted colour', text: colour }),
    el(
      'dl',
      {},
      el('dt', { text: 'IP' }),
      el('dd', { text: pod.ip ?? 'none yet' }),
      el('dt', { text: 'age' }),
      el('dd', {
        class: 'age',
        'data-created': String(pod.createdAt ?? ''),
        text: age(pod.createdAt),
      }),
      el('dt', { text: 'restarts' }),
      el('dd', { text: String(pod.restarts) }),
    ),
  );
  paint(node, pod.colour);
  return node;
}

function renderCluster(next: ClusterView): void {
  view = next;
  action = next.busy;
  $('where').textContent = next.where;
  const problem = $('problem');
  problem.hidden = next.problem === null;
  problem.textContent = next.problem ?? '';
  $('desired').textContent =
    next.desired === null
      ? 'No Deployment: run `replica-demo up` first.'
      : `${next.pods.filter((p) => p.ready).length} of ${next.desired} ready.`;
  const replicas = $('replicas') as HTMLInputElement;
  if (document.activeElement !== replicas && next.desired !== null)
    replicas.value = String(next.desired);
  const byNode = new Map<string, PodCard[]>();
  for (const pod of next.pods) {
    const node = pod.node ?? 'not scheduled yet';
    byNode.set(node, [...(byNode.get(node) ?? []), pod]);
  }
  const nodes = [...byNode.keys()].sort();
  const focused = (document.activeElement as HTMLElement | null)?.getAttribute('aria-label');
  $('nodes').replaceChildren(
    ...nodes.map((node) =>
      el(
        'div',
        { class: 'node', 'data-node': node },
        el('h3', { text: node }),
        el('div', { class: 'cards' }, ...(byNode.get(node) ?? []).map(card)),
      ),
    ),
  );
  // Keyboard users keep their place when the cards are redrawn.
  if (focused)
    document.querySelector<HTMLElement>(`[aria-label="${CSS.escape(focused)}"]`)?.focus();
  renderBusy();
}

function renderBusy(): void {
  for (const button of document.querySelectorAll<HTMLButtonElement>('form button[type=submit]'))
    if (!button.closest('dialog')) button.disabled = action !== null;
  $('stop').hidden = action === null;
  if (action === null && $('progress').dataset.state === 'running')
    $('progress').textContent = 'Nothing running.';
}

/** One leg's bars: a row per pod, labelled with its replica id and count. */
function legSection(leg: Leg): HTMLElement {
  const id = `leg-${leg}`;
  let section = document.getElementById(id);
  if (!section) {
    section = el(
      'div',
      { id, 'data-leg': leg },
      el('h3', { text: leg === 'service' ? 'Through the Service' : 'Through port-forward' }),
      el('div', { class: 'bars' }),
      el('div', { class: 'prose' }),
    );
    $('blast').append(section);
  }
  return section;
}

function drawBars(leg: Leg, rows: Pick<LegRow, 'pod' | 'replicaId' | 'count'>[]): void {
  const bars = legSection(leg).querySelector('.bars');
  if (!bars) return;
  const max = Math.max(1, ...rows.map((r) => r.count));
  bars.replaceChildren(
    ...rows.flatMap((row) => {
      const colour = colourOf(row.pod);
      const label = el('span', { class: 'bar-label', text: row.replicaId, title: row.pod });
      const bar = el('div', {
        class: 'bar',
        'data-pod': row.pod,
        'data-count': String(row.count),
        role: 'img',
        'aria-label': `${row.replicaId}: ${row.count} request${row.count === 1 ? '' : 's'}`,
      });
      bar.style.width = `${(100 * row.count) / max}%`;
      const track = el('div', { class: 'bar-track' }, bar);
      const count = el('span', { class: 'count', text: String(row.count) });
      for (const n of [label, bar]) paint(n, colour);
      return [label, track, count];
    }),
  );
}

const replicaOf = (pod: string) => pod.split('-').at(-1) ?? pod;

function onBlastLeg(e: DashboardEvents['blast-leg']): void {
  legSection(e.leg);
  drawBars(
    e.leg,
    e.pods.map((p) => ({ pod: p.name, replicaId: replicaOf(p.name), count: 0 })),
  );
}

function onBlastCounts(e: DashboardEvents['blast-counts']): void {
  const heading = legSection(e.leg).querySelector('h3');
  const name = e.leg === 'service' ? 'Through the Service' : 'Through port-forward';
  if (heading)
    heading.textContent = `${name}: ${e.done} of ${e.total} requests so far${e.failed > 0 ? `, ${e.failed} failed` : ''}`;
  const rows = Object.entries(e.pods)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([pod, count]) => ({ pod, replicaId: replicaOf(pod), count }));
  drawBars(e.leg, rows);
}

function onBlastResult(e: DashboardEvents['blast-result']): void {
  for (const leg of e.legs) {
    const section = legSection(leg.leg);
    const heading = section.querySelector('h3');
    if (heading) heading.textContent = leg.title;
    drawBars(leg.leg, leg.rows);
    section
      .querySelector('.prose')
      ?.replaceChildren(
        ...leg.lines.map((line) => el('div', { class: 'summary', text: line.trim() })),
        ...leg.paragraphs.map((p) => el('p', { text: p })),
      );
    section.dataset.done = 'true';
  }
}

function onKillResult(e: DashboardEvents['kill-result']): void {
  const load = e.load;
  if (!load) return;
  const max = Math.max(1, ...load.seconds.map((s) => s.requests));
  const bars = load.seconds.map((s) => {
    const bar = el('div', {
      class: `${s.failed > 0 ? 'failed' : ''}${s.second === 0 ? ' kill' : ''}`,
      title: `second ${s.second}: ${s.requests} requests, ${s.failed} failed`,
    });
    bar.style.height = `${(100 * s.requests) / max}%`;
    return bar;
  });
  $('load').replaceChildren(
    el('h3', {
      text: `Requests per second during the kill: ${load.requests}, ${load.failed} failed (outlined: the second of the kill; red: a second with failures)`,
    }),
    el('div', { class: 'load', role: 'img', 'aria-label': 'requests per second' }, ...bars),
  );
}

function onAction(e: DashboardEvents['action']): void {
  if (e.state === 'started') {
    action = e.what;
    $('message').hidden = true;
    $('log').textContent = '';
    if (e.what === 'blast') $('blast').replaceChildren();
    if (e.what.startsWith('kill')) {
      $('timeline').replaceChildren();
      $('load').replaceChildren();
    }
  } else {
    action = null;
    if (e.state === 'failed') showMessage(e.error ?? `${e.what} failed`);
  }
  renderBusy();
}

function onLine(text: string): void {
  $('log').append(`${text}\n`);
  if (action?.startsWith('kill')) $('timeline').append(el('li', { text }));
}

function showMessage(text: string): void {
  const box = $('message');
  box.textContent = text;
  box.hidden = false;
}

async function post(path: string, body: unknown): Promise<void> {
  try {
    const res = await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Replica-Demo-Token': TOKEN },
      body: JSON.stringify(body),
    });
    if (!res.ok) {
      const text = await res.text();
      let error = text;
      try {
        error = (JSON.parse(text) as { error?: string }).error ?? text;
      } catch {
        // a plain-text answer
      }
      showMessage(error.trim());
    }
  } catch {
    showMessage('The dashboard did not answer; is `replica-demo dashboard` still running?');
  }
}

function confirmKill(pod: string): void {
  const dialog = $('confirm') as HTMLDialogElement;
  $('confirm-text').textContent = `Kill pod ${pod}? The ReplicaSet replaces it.`;
  dialog.returnValue = '';
  dialog.onclose = () => {
    if (dialog.returnValue !== 'kill') return;
    const crash = ($('crash') as HTMLInputElement).checked;
    // A crash is measured only under load.
    const underLoad = crash || ($('under-load') as HTMLInputElement).checked;
    void post('/api/kill', { pod, underLoad, crash });
  };
  dialog.showModal();
  $('confirm-kill').focus();
}

/** The server pings every 5 s: silence for longer than this means the connection is dead. */
const SILENCE_MS = 12_000;

function connect(): void {
  const connection = $('connection');
  const source = new EventSource(`/events?token=${encodeURIComponent(TOKEN)}`);
  let heard = Date.now();
  const lost = (text: string, retryMs: number) => {
    clearInterval(watchdog);
    source.close();
    connection.dataset.state = 'lost';
    connection.textContent = text;
    setTimeout(connect, retryMs);
  };
  // A dead peer (a sleeping laptop, a stopped process) closes nothing: listen for silence.
  const watchdog = setInterval(() => {
    if (Date.now() - heard > SILENCE_MS) lost('Connection lost; reconnecting…', 500);
  }, 1000);
  const on = <K extends keyof DashboardEvents>(
    name: K,
    handle: (data: DashboardEvents[K]) => void,
  ) =>
    source.addEventListener(name, (e) => {
      heard = Date.now();
      handle(JSON.parse((e as MessageEvent<string>).data) as DashboardEvents[K]);
    });
  source.onopen = () => {
    heard = Date.now();
    connection.dataset.state = 'live';
    connection.textContent = 'Live';
  };
  source.onerror = () => {
    // Refused (a stale token) or the dashboard is gone: the browser gives up; we do not.
    if (source.readyState === EventSource.CLOSED)
      lost('Not connected: is `replica-demo dashboard` running? Retrying…', 3000);
    else {
      connection.dataset.state = 'lost';
      connection.textContent = 'Connection lost; reconnecting…';
    }
  };
  on('ping', () => undefined);
  on('cluster', renderCluster);
  on('action', onAction);
  on('progress', (e) => {
    $('progress').textContent = e.text;
    $('progress').dataset.state = e.state;
  });
  on('line', (e) => onLine(e.text));
  on('note', (e) => $('log').append(`${e.text}\n`));
  on('blast-leg', onBlastLeg);
  on('blast-counts', onBlastCounts);
  on('blast-result', onBlastResult);
  on('kill-result', onKillResult);
}

function setup(): void {
  const large = $('large');
  const setLarge = (on: boolean) => {
    document.documentElement.classList.toggle('large', on);
    large.setAttribute('aria-pressed', String(on));
    localStorage.setItem('replica-demo-large', on ? '1' : '');
  };
  setLarge(localStorage.getItem('replica-demo-large') === '1');
  large.addEventListener('click', () =>
    setLarge(!document.documentElement.classList.contains('large')),
  );
  $('blast-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    void post('/api/blast', {
      count: Number(form.get('count')),
      via: form.get('via'),
      parallel: Number(form.get('parallel')),
      keepAlive: form.get('keepAlive') === 'on',
    });
  });
  $('scale-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void post('/api/scale', { replicas: Number(($('replicas') as HTMLInputElement).value) });
  });
  $('stop').addEventListener('click', () => void post('/api/stop', {}));
  setInterval(() => {
    for (const node of document.querySelectorAll<HTMLElement>('.age')) {
      const created = Number(node.dataset.created);
      if (created > 0) node.textContent = age(created);
    }
  }, 1000);
  connect();
}

setup();
