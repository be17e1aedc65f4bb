/**
 * The Pod Security Standards as the Kubernetes admission plugin checks them (policy version
 * `latest`), on plain pod data. The embedded cluster enforces a namespace's labels with this,
 * and the tests hold our pod templates to it, so reasons and details are worded exactly like
 * the real admission's: `allowPrivilegeEscalation != false (container "web" must set
 * securityContext.allowPrivilegeEscalation=false)`.
 */

import { compareCodeUnits, quote, view, type Check } from './pod-security/view.js';
import { BASELINE_CHECKS } from './pod-security/baseline.js';
import { RESTRICTED_CHECKS } from './pod-security/restricted.js';

export { hardeningGaps } from './pod-security/hardening.js';

export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';

export interface PodSecurityViolation {
  /** The admission plugin's check id, e.g. `runAsNonRoot`. */
  readonly check: string;
  /** Short reason, e.g. `runAsNonRoot != true`. */
  readonly reason: string;
  /** What to change, e.g. `pod or container "web" must set securityContext.runAsNonRoot=true`. */
  readonly detail: string;
}

export interface PodSecurityPolicy {
  readonly level: PodSecurityLevel;
  /** `latest` or `v1.<minor>`. Every version is evaluated with the `latest` checks. */
  readonly version: string;
}

export interface NamespacePodSecurity {
  readonly enforce: PodSecurityPolicy;
  readonly warn: PodSecurityPolicy;
  readonly audit: PodSecurityPolicy;
}

/** Baseline checks first, then restricted ones, each group by id: the admission plugin's order. */
function checksFor(level: PodSecurityLevel): Check[] {
  if (level === 'privileged') return [];
  const byId = (a: Check, b: Check) => compareCodeUnits(a.id, b.id);
  const baseline = [...BASELINE_CHECKS].sort(byId);
  if (level === 'baseline') return baseline;
  const restricted = [...RESTRICTED_CHECKS].sort(byId);
  const overridden = new Set(restricted.flatMap((c) => c.overrides ?? []));
  return [...baseline.filter((c) => !overridden.has(c.id)), ...restricted];
}

/** Every way the pod breaks `level`, in the order the admission plugin reports them. */
export function evaluatePodSecurity(
  level: PodSecurityLevel,
  podSpec: unknown,
  podMetadata?: unknown,
): PodSecurityViolation[] {
  const pod = view(podSpec, podMetadata);
  const violations: PodSecurityViolation[] = [];
  for (const check of checksFor(level)) {
    const result = check.run(pod);
    if (result) violations.push({ check: check.id, ...result });
  }
  return violations;
}

/** `reason (detail)`, as the admission plugin prints one violation. */
export function formatViolation(violation: PodSecurityViolation): string {
  return violation.detail === '' ? violation.reason : `${violation.reason} (${violation.detail})`;
}

/** The `restricted` profile's complaints about a pod spec, worded like the real admission's. */
export function restrictedViolations(podSpec: unknown, podMetadata?: unknown): string[] {
  return evaluatePodSecurity('restricted', podSpec, podMetadata).map(formatViolation);
}

export function baselineViolations(podSpec: unknown, podMetadata?: unknown): string[] {
  return evaluatePodSecurity('baseline', podSpec, podMetadata).map(formatViolation);
}

function policyName(policy: PodSecurityPolicy): string {
  return `${policy.level}:${policy.version}`;
}

/** The Forbidden message of a pod refused by `enforce`. */
export function forbiddenPodMessage(
  podName: string,
  policy: PodSecurityPolicy,
  violations: readonly PodSecurityViolation[],
): string {
  return `pods ${quote(podName)} is forbidden: violates PodSecurity ${quote(policyName(policy))}: ${violations.map(formatViolation).join(', ')}`;
}

/** The warning kubectl prints for `warn` (and for Deployments, whose pods would be refused). */
export function podSecurityWarning(
  policy: PodSecurityPolicy,
  violations: readonly PodSecurityViolation[],
): string {
  return `would violate PodSecurity ${quote(policyName(policy))}: ${violations.map(formatViolation).join(', ')}`;
}

const LABEL_PREFIX = 'pod-security.kubernetes.io/';
const LEVELS: readonly string[] = ['privileged', 'baseline', 'restricted'];
const VERSION = /^(latest|v1\.(0|[1-9][0-9]*))$/;

/**
 * The policies a namespace's labels ask for. No level label means `privileged` (the
 * admission plugin's default); an unreadable label falls back to the strictest reading,
 * `restricted` and `latest`, as the real plugin does.
 */
export function podSecurityFromLabels(
  labels: Readonly<Record<string, string>> | undefined,
): NamespacePodSecurity {
  const policy = (mode: 'enforce' | 'warn' | 'audit'): PodSecurityPolicy => {
    const level = labels?.[`${LABEL_PREFIX}${mode}`];
    const version = labels?.[`${LABEL_PREFIX}${mode}-version`];
    return {
      level:
        level === undefined
          ? 'privileged'
          : LEVELS.includes(level)
            ? (level as PodSecurityLevel)
            : 'restricted',
      version: version !== undefined && VERSION.test(version) ? version : 'latest',
    };
  };
  return { enforce: policy('enforce'), warn: policy('warn'), audit: policy('audit') };
}
