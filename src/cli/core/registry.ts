import { UsageError } from '../errors.js';
import { CURL_IMAGE, IMAGE_REPOSITORY } from './names.js';

/**
 * `up --registry HOST[:PORT]/PATH`: the images pushed where the cluster's nodes pull from,
 * for clusters that have no `kind load` (a cloud cluster, k3d, minikube, or kind with a local
 * registry). Pure: names only.
 */

// Docker's rule: the first part of a name is a registry host when it has a dot or a port,
// or is `localhost`; anything else would be read as a Docker Hub path.
const HOST_LABEL = '[a-z0-9](?:[a-z0-9-]*[a-z0-9])?';
const HOST = new RegExp(`^(?:localhost|${HOST_LABEL}(?:\\.${HOST_LABEL})*)(?::(\\d{1,5}))?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

const EXAMPLE = 'localhost:5001/replica-demo or ghcr.io/you/replica-demo';

function bad(value: string, why: string): UsageError {
  return new UsageError(
    `--registry ${JSON.stringify(value)} ${why}; give HOST[:PORT]/PATH, such as ${EXAMPLE}.`,
  );
}

/** The registry and path, checked and without a trailing slash. */
export function parseRegistry(value: string): string {
  const trimmed = value.replace(/\/+$/, '');
  if (trimmed === '' || /\s/.test(trimmed) || trimmed.startsWith('-')) {
    throw bad(value, 'is not a registry');
  }
  if (/[A-Z]/.test(trimmed)) throw bad(value, 'has capitals, which image names cannot have');
  if (/^[a-z]+:\/\//.test(trimmed)) throw bad(value, 'is a URL; drop the scheme');
  const [host = '', ...path] = trimmed.split('/');
  const hostMatch = HOST.exec(host);
  if (hostMatch === null || !(host === 'localhost' || host.includes('.') || host.includes(':'))) {
    throw bad(
      value,
      `does not start with a registry host (${JSON.stringify(host)} has no dot or port)`,
    );
  }
  const port = hostMatch[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
    throw bad(value, `has port ${port}, outside 1..65535`);
  }
  if (path.some((part) => part.includes('@') || part.includes(':'))) {
    throw bad(value, 'names a tag or digest; up adds the image names and tags itself');
  }
  const wrong = path.find((part) => !PATH_COMPONENT.test(part));
  if (wrong !== undefined)
    throw bad(value, `has a path part ${JSON.stringify(wrong)} that an image name cannot have`);
  return trimmed;
}

/** `multi-replica-app:abc` or `curlimages/curl:8.11.1` under the registry: its last path part. */
export function imageInRegistry(registry: string, image: string): string {
  return `${registry}/${image.slice(image.lastIndexOf('/') + 1)}`;
}

/** The registry and path of a server image that `up --registry` deployed; undefined otherwise. */
export function registryOf(serverImage: string | undefined): string | undefined {
  if (serverImage === undefined) return undefined;
  const withoutTag = serverImage.replace(/[:@][^/]*$/, '');
  const slash = withoutTag.lastIndexOf('/');
  if (slash === -1 || withoutTag.slice(slash + 1) !== IMAGE_REPOSITORY) return undefined;
  return withoutTag.slice(0, slash);
}

/**
 * The curl image a blast's Job should name, read from the image the lesson's Deployment runs:
 * when `up --registry` put the server image in a registry, the curl image is beside it there;
 * otherwise the published name (loaded into kind by `up`, or pulled by the nodes).
 */
export function curlImageBeside(serverImage: string | undefined): string {
  const registry = registryOf(serverImage);
  return registry === undefined ? CURL_IMAGE : imageInRegistry(registry, CURL_IMAGE);
}
