import type { Response } from 'express';
import type { DashboardEvents } from './protocol.js';

/**
 * Server-Sent Events to every open page. A page that connects (or reconnects after a drop)
 * first gets the cluster as it is now and what the current or last action said so far, so
 * it never needs to ask.
 */

export interface DashboardEvent {
  event: string;
  data: unknown;
}

/** A page that hears nothing for a few of these takes the connection for dead and reconnects. */
export const HEARTBEAT_MS = 5000;

export class Hub {
  private readonly clients = new Set<Response>();
  /** The events of the current or last action, replayed to a page that connects. */
  private replay: DashboardEvent[] = [];
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly snapshot: () => DashboardEvent) {}

  attach(res: Response): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Content-Type-Options': 'nosniff',
    });
    // A reconnecting browser waits this long before it tries again.
    res.write('retry: 1000\n\n');
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
    write(res, this.snapshot());
    for (const e of this.replay) write(res, e);
    this.heartbeat ??= setInterval(() => {
      for (const client of this.clients) write(client, { event: 'ping', data: {} });
    }, HEARTBEAT_MS).unref();
  }

  /** Sent to every page now; kept for pages that connect later when `keep` is set. */
  send<K extends keyof DashboardEvents>(event: K, data: DashboardEvents[K], keep = true): void {
    const e = { event, data };
    if (keep) this.replay.push(e);
    for (const client of this.clients) write(client, e);
  }

  /** A new action: what the last one said is no longer replayed. */
  startAction(): void {
    this.replay = [];
  }

  get size(): number {
    return this.clients.size;
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const client of this.clients) client.end();
    this.clients.clear();
  }
}

function write(res: Response, { event, data }: DashboardEvent): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}
