import type { ChalkInstance } from 'chalk';
import { PALETTE_SIZE } from '../core/colours.js';

/**
 * The pods' colours: hues told apart by most eyes, red kept for errors. Every pod is also
 * named in text, so colour is never the only way to tell them apart.
 */
const PALETTE = [
  'cyan',
  'magenta',
  'yellow',
  'green',
  'blue',
  'cyanBright',
  'magentaBright',
  'yellowBright',
  'greenBright',
  'blueBright',
] as const satisfies readonly (keyof ChalkInstance)[];

if (PALETTE.length !== PALETTE_SIZE) throw new Error('PALETTE_SIZE does not match the palette');

/** `text` (the pod's name by default) in `pod`'s colour; unknown pods stay plain. */
export type PodPaint = (pod: string, text?: string) => string;

export function podPainter(
  color: ChalkInstance,
  colours: Readonly<Record<string, number>>,
): PodPaint {
  return (pod, text = pod) => {
    const index = colours[pod];
    const hue = index === undefined ? undefined : PALETTE[index % PALETTE.length];
    return hue === undefined ? text : color[hue](text);
  };
}

/** Every whole pod name in `text`, in its colour. */
export function paintNames(text: string, pods: readonly string[], paint: PodPaint): string {
  if (pods.length === 0) return text;
  const escaped = [...pods]
    .sort((a, b) => b.length - a.length)
    .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return text.replace(new RegExp(`(?<![\\w-])(?:${escaped.join('|')})(?![\\w-])`, 'g'), (name) =>
    paint(name),
  );
}
