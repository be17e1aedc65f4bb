import type { KubeObject } from './store.js';
import { ApiError } from './api/status.js';

/**
 * Secrets as the API server writes them: `stringData` folded into base64 `data` (its v1
 * to internal conversion does that on every write, so `stringData` is never stored), `type`
 * defaulted to Opaque, keys and the well-known types' required keys validated, and `type`
 * (and the data of an `immutable` Secret) kept on update.
 */

type Obj = Record<string, unknown>;

export interface SecretCause {
  reason: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueForbidden' | 'FieldValueTooLong';
  message: string;
  field: string;
}

const KEY = /^[-._a-zA-Z0-9]+$/;
const MAX_KEY_LENGTH = 253;
/** core.MaxSecretSize: all values together. */
const MAX_SIZE = 1024 * 1024;

/** The keys each well-known type requires, as its validation names them. */
const REQUIRED_KEYS: Record<string, readonly string[]> = {
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
};

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Where Go's base64 decoder stops on `text`, or undefined when it is valid (line breaks are
 * skipped, padding is required): the index of a bad character or of the unfinished quantum.
 */
export function base64ErrorAt(text: string): number | undefined {
  const skip = (from: number) => {
    let j = from;
    while (text[j] === '\r' || text[j] === '\n') j += 1;
    return j;
  };
  let inQuantum = 0;
  let quantumStart = 0;
  for (let i = skip(0); i < text.length; i = skip(i + 1)) {
    const c = text[i] ?? '';
    if (inQuantum === 0) quantumStart = i;
    if (c !== '=') {
      if (!/[A-Za-z0-9+/]/.test(c)) return i;
      inQuantum = (inQuantum + 1) % 4;
      continue;
    }
    // Padding: after two characters it takes "==", after three "="; nothing may follow.
    if (inQuantum < 2) return i;
    let end = i;
    if (inQuantum === 2) {
      end = skip(i + 1);
      if (end >= text.length) return text.length;
      if (text[end] !== '=') return i;
    }
    const rest = skip(end + 1);
    return rest < text.length ? rest : undefined;
  }
  return inQuantum === 0 ? undefined : quantumStart;
}

function keyCauses(key: string): SecretCause[] {
  const messages: string[] = [];
  if (key.length > MAX_KEY_LENGTH)
    messages.push(`must be no more than ${MAX_KEY_LENGTH} characters`);
  if (!KEY.test(key))
    messages.push(
      "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
    );
  if (key === '.') messages.push("must not be '.'");
  else if (key === '..') messages.push("must not be '..'");
  else if (key.startsWith('..')) messages.push("must not start with '..'");
  return messages.map((m) => ({
    reason: 'FieldValueInvalid',
    field: `data[${key}]`,
    message: `Invalid value: "${key}": ${m}`,
  }));
}

function required(field: string): SecretCause {
  return { reason: 'FieldValueRequired', field, message: 'Required value' };
}

/** Decoding `data`: each value must be base64, as Go's JSON decoder reads a []byte. */
function checkBase64(data: Obj): void {
  for (const value of Object.values(data)) {
    if (value === null) continue;
    const at = typeof value === 'string' ? base64ErrorAt(value) : 0;
    if (at !== undefined)
      throw new ApiError(
        400,
        'BadRequest',
        typeof value === 'string'
          ? `Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte ${at}`
          : `Secret in version "v1" cannot be handled as a Secret: json: cannot unmarshal ${typeof value} into Go struct field Secret.data of type []uint8`,
      );
  }
}

function typeCauses(obj: Obj, data: Obj, meta: Obj): SecretCause[] {
  const type = typeof obj.type === 'string' ? obj.type : 'Opaque';
  if (type === 'kubernetes.io/service-account-token') {
    const annotations = isObj(meta.annotations) ? meta.annotations : {};
    const name = annotations['kubernetes.io/service-account.name'];
    return typeof name === 'string' && name !== ''
      ? []
      : [required('metadata.annotations[kubernetes.io/service-account.name]')];
  }
  if (type === 'kubernetes.io/basic-auth')
    return 'username' in data || 'password' in data
      ? []
      : [required('data[username]'), required('data[password]')];
  if (type === 'kubernetes.io/ssh-auth')
    return data['ssh-privatekey'] ? [] : [required('data[ssh-privatekey]')];
  return (REQUIRED_KEYS[type] ?? []).filter((k) => !(k in data)).map((k) => required(`data[${k}]`));
}

/** Default and validate a Secret about to be written; the causes of a 422, as the real ones. */
export function defaultSecret(obj: Obj, meta: Obj, current: KubeObject | undefined): SecretCause[] {
  const causes: SecretCause[] = [];
  const data: Obj = isObj(obj.data) ? obj.data : {};
  checkBase64(data);
  if (isObj(obj.stringData))
    for (const [k, v] of Object.entries(obj.stringData))
      data[k] = Buffer.from(typeof v === 'string' ? v : String(v), 'utf8').toString('base64');
  delete obj.stringData;
  // data is omitempty in Go: an empty map is left out.
  if (Object.keys(data).length > 0) obj.data = data;
  else delete obj.data;
  if (typeof obj.type !== 'string' || obj.type === '') obj.type = 'Opaque';
  let size = 0;
  for (const [k, v] of Object.entries(data)) {
    causes.push(...keyCauses(k));
    size += typeof v === 'string' ? Buffer.from(v, 'base64').length : 0;
  }
  if (size > MAX_SIZE)
    causes.push({
      reason: 'FieldValueTooLong',
      field: 'data',
      message: `Too long: may not be more than ${MAX_SIZE} bytes`,
    });
  causes.push(...typeCauses(obj, data, meta));
  if (current) causes.push(...updateCauses(obj, current));
  return causes;
}

function updateCauses(obj: Obj, current: KubeObject): SecretCause[] {
  const old = current as unknown as Obj;
  const out: SecretCause[] = [];
  if (obj.type !== old.type)
    out.push({
      reason: 'FieldValueInvalid',
      field: 'type',
      message: `Invalid value: "${String(obj.type)}": field is immutable`,
    });
  if (old.immutable === true) {
    const forbidden = (field: string): SecretCause => ({
      reason: 'FieldValueForbidden',
      field,
      message: 'Forbidden: field is immutable when `immutable` is set',
    });
    if (obj.immutable !== true) out.push(forbidden('immutable'));
    if (JSON.stringify(sorted(obj.data)) !== JSON.stringify(sorted(old.data)))
      out.push(forbidden('data'));
  }
  return out;
}

function sorted(data: unknown): [string, unknown][] {
  return isObj(data) ? Object.entries(data).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : [];
}
