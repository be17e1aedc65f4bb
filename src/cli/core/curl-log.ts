/**
 * Parsing what the blast's curl wrote: one `-w` line per request on stdout (on stderr with
 * the timed write-out), and with -sS one `curl: (N) ...` line per failed request on stderr;
 * the pod log holds both, interleaved, each line after its time when read with timestamps.
 */

export interface RequestRecord {
  /** HTTP status; 0 when no response arrived (curl prints `000`). */
  status: number;
  /** Seconds from start to the last byte, as curl measured it. */
  seconds: number;
  /** The `X-Pod-Name` header; undefined when there was no response or no header. */
  pod?: string;
  /**
   * When the line was written, in milliseconds since the epoch: the log's timestamp, when
   * it was read with timestamps (a timed write-out writes each line as its request ends).
   */
  loggedAt?: number;
}

export interface CurlError {
  /** curl's exit code for the failure, e.g. 7 "Failed to connect", 28 "timeout". */
  code: number;
  /** The message with per-request numbers (milliseconds) blanked, so equal failures group. */
  message: string;
  count: number;
}

export interface CurlLog {
  records: RequestRecord[];
  errors: CurlError[];
  /** Lines that were neither; shown only when nothing parsed, as a clue. */
  unparsed: string[];
}

const WRITE_OUT_LINE = /^(\d{3}) (\d+(?:\.\d+)?)(?: (\S*))?\s*$/;
const CURL_ERROR_LINE = /^curl: \((\d+)\) (.*)$/;
/** The RFC 3339 time `kubectl logs --timestamps` (the API's `timestamps=true`) puts first. */
const LOG_TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) /;

export function parseWriteOutLine(line: string): RequestRecord | undefined {
  const match = WRITE_OUT_LINE.exec(line);
  if (!match) return undefined;
  const status = Number(match[1]);
  const seconds = Number(match[2]);
  const pod = match[3];
  return pod !== undefined && pod !== '' ? { status, seconds, pod } : { status, seconds };
}

export function normaliseCurlMessage(message: string): string {
  return message
    .replace(/after \d+ ms/g, 'after N ms')
    .replace(/\d+ milliseconds/g, 'N milliseconds')
    .trim();
}

/** The log of a blast pod, read with or without the log's timestamps (`loggedAt`). */
export function parseCurlLog(text: string): CurlLog {
  const records: RequestRecord[] = [];
  const errors = new Map<string, CurlError>();
  const unparsed: string[] = [];
  for (const raw of text.split('\n')) {
    let line = raw.replace(/\r$/, '');
    const stamp = LOG_TIMESTAMP.exec(line);
    const loggedAt = stamp ? Date.parse(stamp[1] ?? '') : Number.NaN;
    if (stamp) line = line.slice(stamp[0].length);
    if (line.trim() === '') continue;
    const record = parseWriteOutLine(line);
    if (record) {
      records.push(Number.isFinite(loggedAt) ? { ...record, loggedAt } : record);
      continue;
    }
    const error = CURL_ERROR_LINE.exec(line);
    if (error) {
      const code = Number(error[1]);
      const message = normaliseCurlMessage(error[2] ?? '');
      const key = `${code} ${message}`;
      const seen = errors.get(key);
      if (seen) seen.count += 1;
      else errors.set(key, { code, message, count: 1 });
      continue;
    }
    unparsed.push(line);
  }
  return { records, errors: [...errors.values()].sort((a, b) => b.count - a.count), unparsed };
}

/** The replica id the lesson prints: the last dash-separated segment of the pod name. */
export function replicaId(podName: string): string {
  const parts = podName.split('-');
  return parts[parts.length - 1] ?? podName;
}
