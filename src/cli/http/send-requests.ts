import http from 'node:http';
import type { BlastPlan } from '../core/blast-plan.js';
import type { CurlError, RequestRecord } from '../core/curl-log.js';
import { SERVICE } from '../core/names.js';

/**
 * The port-forward leg's load: HTTP requests from this process through a local port, shaped
 * like the curl Job's records so both legs share the histogram and the statistics.
 */

const REQUEST_TIMEOUT_MS = 10_000;

/**
 * N requests from this process, a new TCP connection each (no keep-alive), `parallel` at a
 * time; records look like the Job's so both paths share the histogram and statistics.
 * When `signal` aborts, the requests answered so far come back with `stopped` set.
 */
export async function sendRequests(
  host: string,
  port: number,
  plan: Pick<BlastPlan, 'count' | 'parallel'>,
  signal: AbortSignal,
  onProgress: (done: number) => void = () => undefined,
  progressEvery = 1000,
  onRecord: (record: RequestRecord) => void = () => undefined,
): Promise<{ records: RequestRecord[]; errors: CurlError[]; stopped: boolean }> {
  const records: RequestRecord[] = [];
  const errors = new Map<string, CurlError>();
  let next = 1;
  let lastReport = Date.now();
  // A request cut short by `signal` was never answered nor failed: it yields no record.
  const one = (n: number) =>
    new Promise<RequestRecord | undefined>((resolve) => {
      const t0 = process.hrtime.bigint();
      const seconds = () => Number(process.hrtime.bigint() - t0) / 1e9;
      const req = http.get(
        {
          host,
          port,
          path: `/?n=${n}`,
          // No pooling agent: a pooled socket would be handed to the next queued request
          // even with keepAlive off. A fresh connection per request, closed by both ends.
          agent: false,
          headers: { Host: SERVICE, Connection: 'close' },
          timeout: REQUEST_TIMEOUT_MS,
          signal,
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const header = res.headers['x-pod-name'];
            const pod = Array.isArray(header) ? header[0] : header;
            const status = res.statusCode ?? 0;
            resolve(pod ? { status, seconds: seconds(), pod } : { status, seconds: seconds() });
          });
          res.on('error', () =>
            resolve(signal.aborted ? undefined : { status: 0, seconds: seconds() }),
          );
        },
      );
      req.on('timeout', () =>
        req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)),
      );
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (signal.aborted) {
          resolve(undefined);
          return;
        }
        const message = `${error.code ? `${error.code}: ` : ''}${error.message}`;
        const seen = errors.get(message);
        if (seen) seen.count += 1;
        else errors.set(message, { code: 0, message, count: 1 });
        resolve({ status: 0, seconds: seconds() });
      });
    });
  const worker = async () => {
    while (next <= plan.count && !signal.aborted) {
      const n = next;
      next += 1;
      const record = await one(n);
      if (record) {
        records.push(record);
        onRecord(record);
      }
      if (Date.now() - lastReport >= progressEvery) {
        lastReport = Date.now();
        onProgress(records.length);
      }
    }
  };
  await Promise.all(Array.from({ length: plan.parallel }, () => worker()));
  return {
    records,
    errors: [...errors.values()].sort((a, b) => b.count - a.count),
    stopped: signal.aborted,
  };
}
