/**
 * Kubernetes' alphabet for generated name suffixes (apimachinery's util/rand): no vowels and
 * no 0, 1 or 3, so a suffix never spells a word. Used by the CLI's run ids and by the
 * embedded cluster's generated names and pod-template hashes.
 */
export const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function randomSuffix(random: () => number, length: number): string {
  let suffix = '';
  for (let i = 0; i < length; i += 1) {
    suffix += SAFE_ALPHABET[Math.floor(random() * SAFE_ALPHABET.length) % SAFE_ALPHABET.length];
  }
  return suffix;
}
