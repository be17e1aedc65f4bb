/**
 * Each pod keeps one colour wherever it is shown (blast's histogram, kill-pod's timeline,
 * the pod table), across commands: the choice is remembered, not worked out from the name,
 * so a replacement never steals a colour from a pod already on screen.
 */

/** How many colours there are (render/colours.ts holds them); more pods than this share. */
export const PALETTE_SIZE = 10;

/**
 * Pod name -> palette index. Pods that had one keep it; a new pod takes the lowest index no
 * live pod holds (new pods in name order, so the list's order does not matter); pods no
 * longer live are forgotten.
 */
export function assignColours(
  previous: Readonly<Record<string, number>>,
  live: readonly string[],
): Record<string, number> {
  const names = [...new Set(live)].sort();
  const kept: Record<string, number> = {};
  const taken = new Set<number>();
  for (const name of names) {
    const index = previous[name];
    if (Number.isInteger(index) && index !== undefined && index >= 0 && index < PALETTE_SIZE) {
      kept[name] = index;
      taken.add(index);
    }
  }
  for (const name of names) {
    if (kept[name] !== undefined) continue;
    let index = 0;
    while (taken.has(index) && index < PALETTE_SIZE) index += 1;
    // Every colour in use: share, spread by position.
    if (index === PALETTE_SIZE) index = Object.keys(kept).length % PALETTE_SIZE;
    kept[name] = index;
    taken.add(index);
  }
  return kept;
}
