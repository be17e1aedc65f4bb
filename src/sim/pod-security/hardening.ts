import { containerName, list, quote, rec, sc, validSeccompType, view } from './view.js';

/**
 * What our own pod templates must set beyond the restricted profile, which accepts some of
 * these being left out (container-level runAsNonRoot when the pod sets it) or never looks at
 * them (read-only root filesystem, numeric user and group, the service-account token).
 */
export function hardeningGaps(podSpec: unknown): string[] {
  const spec = rec(podSpec) ?? {};
  const podSc = rec(spec.securityContext);
  const gaps: string[] = [];
  const positiveInteger = (value: unknown) =>
    typeof value === 'number' && Number.isInteger(value) && value > 0;
  if (spec.automountServiceAccountToken !== false) {
    gaps.push('spec.automountServiceAccountToken must be false');
  }
  if (podSc?.runAsNonRoot !== true) gaps.push('spec.securityContext.runAsNonRoot must be true');
  if (!positiveInteger(podSc?.runAsUser)) {
    gaps.push('spec.securityContext.runAsUser must be a number above 0');
  }
  if (!positiveInteger(podSc?.runAsGroup)) {
    gaps.push('spec.securityContext.runAsGroup must be a number above 0');
  }
  if (!validSeccompType(rec(podSc?.seccompProfile)?.type)) {
    gaps.push('spec.securityContext.seccompProfile.type must be RuntimeDefault or Localhost');
  }
  for (const c of view(spec, undefined).containers) {
    const where = `container ${quote(containerName(c))}:`;
    const csc = sc(c);
    if (csc?.runAsNonRoot !== true) gaps.push(`${where} securityContext.runAsNonRoot must be true`);
    if (csc?.allowPrivilegeEscalation !== false) {
      gaps.push(`${where} securityContext.allowPrivilegeEscalation must be false`);
    }
    if (!list(rec(csc?.capabilities)?.drop).includes('ALL')) {
      gaps.push(`${where} securityContext.capabilities.drop must include ALL`);
    }
    if (csc?.readOnlyRootFilesystem !== true) {
      gaps.push(`${where} securityContext.readOnlyRootFilesystem must be true`);
    }
  }
  return gaps;
}
