/**
 * The names the lesson depends on. A learner following the original README by hand types
 * these, so every part of the tool imports them from here instead of repeating them.
 */

export const NAMESPACE = 'multi-replica-web';
export const DEPLOYMENT = 'web-server-deployment';
export const SERVICE = 'web-server-service';
export const POD_DISRUPTION_BUDGET = 'web-server-pdb';

export const APP_LABEL_KEY = 'app';
export const APP_LABEL_VALUE = 'web-server';
/** The label selector in the form `kubectl -l` and the API's `labelSelector` take. */
export const APP_LABEL = `${APP_LABEL_KEY}=${APP_LABEL_VALUE}`;

/** `down` deletes a namespace only when it carries this label with this value. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'replica-demo';
/** Field manager for server-side apply, so our fields are told apart from a person's edits. */
export const FIELD_MANAGER = 'replica-demo';

export const DEFAULT_REPLICAS = 5;
export const MIN_REPLICAS = 1;
export const MAX_REPLICAS = 50;

export const CONTAINER_NAME = 'web';
export const CONTAINER_PORT = 8080;
export const CONTAINER_PORT_NAME = 'http';
export const SERVICE_PORT = 80;

/** Paths the server answers; probes and the Service must only ever point at these. */
export const SERVER_PATHS = ['/', '/info', '/health', '/ready', '/load'] as const;
export const LIVENESS_PATH = '/health';
export const READINESS_PATH = '/ready';

/** Repository of the server image; the tag is a hash of the image inputs, never `latest`. */
export const IMAGE_REPOSITORY = 'multi-replica-app';
/** The tag in the plain manifest, for a person applying it by hand after building that tag. */
export const PLACEHOLDER_IMAGE_TAG = 'dev';

/**
 * The blast Job's image. Pinned because a floating tag defaults to `imagePullPolicy: Always`
 * and can change under the lesson; 8.11.1 has `%header{}` (curl 7.84+).
 */
export const CURL_IMAGE = 'curlimages/curl:8.11.1';
/** The image runs as the named user `curl_user`; `runAsNonRoot` needs the number. */
export const CURL_USER_ID = 100;

/** Numeric user and group of the server image (the Dockerfile's `USER`). */
export const SERVER_USER_ID = 10001;
export const SERVER_GROUP_ID = 10001;

/** Folder, relative to the package root, of the manifests `kubectl apply -f` takes. */
export const MANIFESTS_DIR = 'manifests';
/**
 * kind's cluster config, relative to the package root. It lives in a sub-folder because
 * `kubectl apply -f manifests/` is not recursive and kind's `Cluster` is not a Kubernetes object.
 */
export const KIND_CLUSTER_CONFIG = 'manifests/kind/kind-cluster.yaml';
