/**
 * Reading pod data for the Pod Security checks, and wording their findings the way the
 * admission plugin does (its quoting, plurals and sort order).
 */

export type Rec = Record<string, unknown>;

/** What the checks look at, read once from loosely typed pod data. */
export interface PodView {
  readonly spec: Rec;
  readonly podSc: Rec | undefined;
  /** Init, regular and ephemeral containers, in that order (the admission plugin's order). */
  readonly containers: readonly Rec[];
  readonly annotations: Readonly<Record<string, string>>;
  readonly windows: boolean;
}

export interface CheckResult {
  readonly reason: string;
  readonly detail: string;
}

export interface Check {
  readonly id: string;
  readonly level: 'baseline' | 'restricted';
  /** Baseline checks this one replaces at the restricted level. */
  readonly overrides?: readonly string[];
  readonly run: (pod: PodView) => CheckResult | undefined;
}

export function rec(value: unknown): Rec | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Rec)
    : undefined;
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorted, without duplicates, like Go's `sets.String.List()`. */
export function sortedSet(values: Iterable<string>): string[] {
  return [...new Set(values)].sort(compareCodeUnits);
}

export function quote(value: string): string {
  return JSON.stringify(value);
}

export function joinQuote(items: readonly string[]): string {
  return items.map(quote).join(', ');
}

export function pluralize(singular: string, plural: string, count: number): string {
  return count === 1 ? singular : plural;
}

/** `container "a"` or `containers "a", "b"`. */
export function containersPhrase(names: readonly string[]): string {
  return `${pluralize('container', 'containers', names.length)} ${joinQuote(names)}`;
}

export function containerName(container: Rec): string {
  return str(container.name);
}

export function sc(container: Rec): Rec | undefined {
  return rec(container.securityContext);
}

export function view(podSpec: unknown, podMetadata: unknown): PodView {
  const spec = rec(podSpec) ?? {};
  const annotations: Record<string, string> = {};
  for (const [key, value] of Object.entries(rec(rec(podMetadata)?.annotations) ?? {})) {
    if (typeof value === 'string') annotations[key] = value;
  }
  const containers = [
    ...list(spec.initContainers),
    ...list(spec.containers),
    ...list(spec.ephemeralContainers),
  ]
    .map(rec)
    .filter((c): c is Rec => c !== undefined);
  return {
    spec,
    podSc: rec(spec.securityContext),
    containers,
    annotations,
    windows: str(rec(spec.os)?.name) === 'windows',
  };
}

/** Pod and containers that explicitly set a bad value: `pod and container "a"`. */
export function settersPhrase(pod: boolean, containers: readonly string[]): string {
  const setters: string[] = [];
  if (pod) setters.push('pod');
  if (containers.length > 0) setters.push(containersPhrase(containers));
  return setters.join(' and ');
}

export function validSeccompType(type: unknown): boolean {
  return type === 'RuntimeDefault' || type === 'Localhost';
}

/** Seccomp values explicitly set to something other than RuntimeDefault/Localhost. */
export function badSeccompSetters(pod: PodView) {
  const values: string[] = [];
  let podBad = false;
  const podProfile = rec(pod.podSc?.seccompProfile);
  if (podProfile && !validSeccompType(podProfile.type)) {
    podBad = true;
    values.push(str(podProfile.type));
  }
  const containers: string[] = [];
  for (const c of pod.containers) {
    const profile = rec(sc(c)?.seccompProfile);
    if (profile && !validSeccompType(profile.type)) {
      containers.push(containerName(c));
      values.push(str(profile.type));
    }
  }
  return { podBad, containers, values: sortedSet(values) };
}

export function procMount(pod: PodView): CheckResult | undefined {
  const badContainers: string[] = [];
  const types: string[] = [];
  for (const c of pod.containers) {
    const value = sc(c)?.procMount;
    if (value === undefined || value === null || value === 'Default') continue;
    badContainers.push(containerName(c));
    types.push(str(value));
  }
  if (badContainers.length === 0) return undefined;
  return {
    reason: 'procMount',
    detail: `${containersPhrase(badContainers)} must not set securityContext.procMount to ${joinQuote(sortedSet(types))}`,
  };
}
