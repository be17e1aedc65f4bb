import { visibleWidth } from './text.js';

/**
 * How far counted work (requests sent) has got: the rate so far and the time left at that
 * rate. The words are the same in a CI log (one line every few seconds) and beside a
 * terminal's bar.
 */

export interface Pace {
  /** Steps per second since counting started; undefined until a step and some time passed. */
  perSecond: number | undefined;
  /** Seconds left at that rate; undefined while the rate is unknown. */
  secondsLeft: number | undefined;
}

export function pace(done: number, total: number, elapsedMs: number): Pace {
  if (done <= 0 || elapsedMs < 250) return { perSecond: undefined, secondsLeft: undefined };
  const perSecond = done / (elapsedMs / 1000);
  return { perSecond, secondsLeft: Math.max(0, total - done) / perSecond };
}

/** "45 s", "3 min 05 s", "1 h 02 min": whole units, coarse enough not to flicker. */
export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

function paceText(p: Pace): string[] {
  if (p.perSecond === undefined || p.secondsLeft === undefined) return [];
  return [`${Math.round(p.perSecond)}/s`, `about ${duration(p.secondsLeft)} left`];
}

/** Beside a bar, where columns are few: "42 s", "3:05", ">1 h". */
function clock(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s >= 3600) return '>1 h';
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function shortPaceText(p: Pace): string[] {
  if (p.perSecond === undefined || p.secondsLeft === undefined) return [];
  return [`${Math.round(p.perSecond)}/s`, `${clock(p.secondsLeft)} left`];
}

/** For a log: "Service: 1234/20000 requests (6%), 850/s, about 22 s left". */
export function countLine(label: string, done: number, total: number, p: Pace): string {
  const percent = total > 0 ? Math.floor((100 * done) / total) : 0;
  return [`${label}: ${done}/${total} requests (${percent}%)`, ...paceText(p)].join(', ');
}

const MIN_BAR = 10;
const MAX_BAR = 40;

/**
 * For a terminal: "Service ████░░░░ 1234/20000 · 850/s · 22 s left", within `width`
 * columns. The bar is sized for the widest words the line may carry, so it keeps its length
 * while they change; the pace goes first when the bar would be too short to read.
 */
export function barLine(
  label: string,
  done: number,
  total: number,
  p: Pace,
  width: number,
): string {
  const count = `${done}/${total}`;
  const widestCount = `${total}/${total}`;
  const layouts = [
    { words: [count, ...shortPaceText(p)], widest: [widestCount, '99999/s', '59:59 left'] },
    { words: [count], widest: [widestCount] },
  ];
  for (const [i, layout] of layouts.entries()) {
    const reserved = visibleWidth(layout.widest.join(' · '));
    const room = Math.min(MAX_BAR, width - visibleWidth(label) - reserved - 2);
    if (room < MIN_BAR && i < layouts.length - 1) continue;
    const size = Math.max(0, room);
    const filled = total > 0 ? Math.min(size, Math.round((size * done) / total)) : 0;
    const line = `${label} ${'█'.repeat(filled)}${'░'.repeat(size - filled)} ${layout.words.join(' · ')}`;
    return [...line].slice(0, width).join('');
  }
  return '';
}
