/**
 * Label and field selectors as the API server parses them from query strings.
 * Labels: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, comma = AND.
 * Fields: `path=value`, `path==value`, `path!=value` over dotted paths like `status.phase`.
 */
export type Requirement =
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'notexists' };

export class SelectorError extends Error {}

/** Split on commas that are not inside parentheses. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth += 1;
    if (ch === ')') depth -= 1;
    if (ch === ',' && depth === 0) {
      terms.push(current);
      current = '';
    } else current += ch;
  }
  terms.push(current);
  return terms.map((t) => t.trim()).filter((t) => t !== '');
}

const KEY = /^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/;

function checkKey(key: string, whole: string): string {
  if (!KEY.test(key))
    throw new SelectorError(
      `unable to parse requirement: invalid label key "${key}" in "${whole}"`,
    );
  return key;
}

export function parseLabelSelector(text: string | undefined): Requirement[] {
  if (!text) return [];
  return splitTerms(text).map((term): Requirement => {
    let m = /^(!)?\s*([^\s!=(),]+)$/.exec(term);
    if (m) return { key: checkKey(m[2] ?? '', text), op: m[1] ? 'notexists' : 'exists' };
    m = /^([^\s!=(),]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
    if (m) {
      const values = (m[3] ?? '')
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');
      return { key: checkKey(m[1] ?? '', text), op: m[2] === 'in' ? 'in' : 'notin', values };
    }
    m = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/.exec(term);
    if (m)
      return {
        key: checkKey(m[1] ?? '', text),
        op: m[2] === '!=' ? 'neq' : 'eq',
        value: m[3] ?? '',
      };
    // A value that starts with an operator: the real parser names the token it found.
    m = /^[^\s!=(),]+\s*(?:==|!=|=)\s*(==|!=|=|!|\(|\)|,)/.exec(term);
    if (m)
      throw new SelectorError(
        `unable to parse requirement: found '${m[1] ?? ''}', expected: identifier`,
      );
    throw new SelectorError(`unable to parse requirement: "${term}"`);
  });
}

export function matchesLabels(
  requirements: Requirement[],
  labels: Record<string, string> | undefined,
): boolean {
  const l = labels ?? {};
  return requirements.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case 'eq':
        return has && v === r.value;
      case 'neq':
        return !has || v !== r.value;
      case 'in':
        return has && r.values.includes(v ?? '');
      case 'notin':
        return !has || !r.values.includes(v ?? '');
      case 'exists':
        return has;
      case 'notexists':
        return !has;
    }
  });
}

/** A structured selector (`spec.selector` of a Deployment) as requirements. */
export function requirementsFromLabelSelector(
  selector:
    | {
        matchLabels?: Record<string, string>;
        matchExpressions?: { key: string; operator: string; values?: string[] }[];
      }
    | undefined,
): Requirement[] {
  if (!selector) return [];
  const reqs: Requirement[] = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => ({
    key,
    op: 'eq' as const,
    value,
  }));
  for (const e of selector.matchExpressions ?? []) {
    const op = e.operator.toLowerCase();
    if (op === 'in' || op === 'notin') reqs.push({ key: e.key, op, values: e.values ?? [] });
    else if (op === 'exists') reqs.push({ key: e.key, op: 'exists' });
    else if (op === 'doesnotexist') reqs.push({ key: e.key, op: 'notexists' });
    else throw new SelectorError(`unsupported selector operator "${e.operator}"`);
  }
  return reqs;
}

export interface FieldRequirement {
  path: string[];
  op: 'eq' | 'neq';
  value: string;
}

/**
 * The field labels the API server accepts in a field selector, beyond `metadata.name` and
 * `metadata.namespace`, per resource; any other is refused (400), as the real one refuses it.
 */
const FIELD_LABELS: Record<string, readonly string[]> = {
  pods: [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.podIPs',
    'status.nominatedNodeName',
  ],
  events: [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  namespaces: ['status.phase'],
  nodes: ['spec.unschedulable'],
  replicasets: ['status.replicas'],
  jobs: ['status.successful'],
  services: ['spec.clusterIP', 'spec.type'],
  secrets: ['type'],
};

/** `plural` names the resource listed, so that a field label it does not have is refused. */
export function parseFieldSelector(text: string | undefined, plural?: string): FieldRequirement[] {
  if (!text) return [];
  return splitTerms(text).map((term) => {
    const m = /^([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw new SelectorError(`invalid field selector: "${term}"`);
    const label = m[1] ?? '';
    if (
      plural !== undefined &&
      label !== 'metadata.name' &&
      label !== 'metadata.namespace' &&
      !(FIELD_LABELS[plural] ?? []).includes(label)
    )
      throw new SelectorError(`field label not supported: ${label}`);
    return { path: label.split('.'), op: m[2] === '!=' ? 'neq' : 'eq', value: m[3] ?? '' };
  });
}

function valueAt(obj: unknown, path: string[]): string {
  let cur: unknown = obj;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[p];
  }
  if (cur === undefined || cur === null) return '';
  return typeof cur === 'string' ? cur : JSON.stringify(cur);
}

export function matchesFields(requirements: FieldRequirement[], obj: unknown): boolean {
  return requirements.every((r) => (valueAt(obj, r.path) === r.value) === (r.op === 'eq'));
}
