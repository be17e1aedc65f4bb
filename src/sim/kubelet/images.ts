import { createHash } from 'node:crypto';

/** What the embedded kubelet can run for an image. */
export type ImageKind = 'server' | 'curl' | 'unknown';

export const UNKNOWN_IMAGE_MESSAGE =
  "the embedded cluster runs only multi-replica-app:* (this tool's server) and curlimages/curl:* images; use kind for other images";

/** The repository without registry, tag or digest: `docker.io/curlimages/curl:8.11.1` -> `curlimages/curl`. */
export function repositoryOf(image: string): string {
  let rest = image.split('@')[0] ?? image;
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) rest = rest.slice(0, colon);
  const parts = rest.split('/');
  // A first part with a dot, a colon or `localhost` names a registry.
  if (parts.length > 1 && /[.:]|^localhost$/.test(parts[0] ?? '')) parts.shift();
  if (parts[0] === 'library') parts.shift();
  return parts.join('/');
}

export function imageKind(image: string | undefined): ImageKind {
  if (!image) return 'unknown';
  const repo = repositoryOf(image);
  if (repo === 'multi-replica-app') return 'server';
  if (repo === 'curlimages/curl') return 'curl';
  return 'unknown';
}

/**
 * The image as the container runtime reports it in a container's status: registry and
 * `library/` made explicit (`multi-replica-app:x` -> `docker.io/library/multi-replica-app:x`).
 */
export function fullImageName(image: string): string {
  const first = image.split('/')[0] ?? '';
  if (image.includes('/') && /[.:]|^localhost$/.test(first)) return image;
  return image.includes('/') ? `docker.io/${image}` : `docker.io/library/${image}`;
}

/** A stable digest-style image ID, as `kubectl describe` shows one. */
export function imageID(image: string): string {
  const repo = repositoryOf(image);
  const full = repo.includes('/') ? `docker.io/${repo}` : `docker.io/library/${repo}`;
  return `${full}@sha256:${createHash('sha256').update(image).digest('hex')}`;
}
