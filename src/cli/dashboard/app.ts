import { readFile } from 'node:fs/promises';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { ReplicaDemoError } from '../errors.js';
import type { Actions } from './actions.js';
import type { Hub } from './hub.js';
import { blastRequest, killRequest, scaleRequest } from './requests.js';
import { TOKEN_HEADER, hostAllowed, sameOrigin, tokenMatches } from './security.js';

/** The dashboard's HTTP side, built apart from listen (as the replica's server is). */

export interface DashboardAppOptions {
  /** The folder holding index.html and app.js (built into dist/dashboard). */
  assets: string;
  token: string;
  /** The port it listens on, for the Host and Origin checks; read when a request comes. */
  port: () => number;
  hub: Hub;
  actions: Actions;
}

const ASSETS: Record<string, string> = {
  '/': 'index.html',
  '/app.js': 'app.js',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};

// The page and its script from this server only; the token in the URL goes nowhere else.
const HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

function forbid(res: Response, why: string): void {
  res.status(403).type('text/plain').send(`Forbidden: ${why}\n`);
}

export function createDashboardApp(options: DashboardAppOptions): express.Express {
  const { token, hub, actions } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((req: Request, res: Response, next: NextFunction) => {
    res.set(HEADERS);
    // A page on another name (DNS rebinding) reaches us with its own Host: refused.
    if (!hostAllowed(req.headers.host, options.port())) {
      forbid(res, 'the Host header must be 127.0.0.1 or localhost with this port.');
      return;
    }
    next();
  });

  for (const [route, file] of Object.entries(ASSETS)) {
    app.get(route, (_req, res, next) => {
      readFile(path.join(options.assets, file)).then(
        (body) => res.type(TYPES[path.extname(file)] ?? 'application/octet-stream').send(body),
        next,
      );
    });
  }

  app.get('/events', (req, res) => {
    if (!tokenMatches(req.query.token, token)) {
      forbid(res, 'open the URL the dashboard printed, with its token.');
      return;
    }
    hub.attach(res);
  });

  // Every request that changes the cluster: the token, our own origin, a JSON body.
  const guard = (req: Request, res: Response, next: NextFunction) => {
    if (!tokenMatches(req.headers[TOKEN_HEADER], token)) {
      forbid(res, 'this request needs the token from the URL the dashboard printed.');
      return;
    }
    if (!sameOrigin(req.headers.origin, req.headers.host, options.port())) {
      forbid(res, 'this request must come from the dashboard page itself.');
      return;
    }
    if (!req.is('application/json')) {
      res.status(415).type('text/plain').send('Send JSON (Content-Type: application/json).\n');
      return;
    }
    next();
  };
  const json = express.json({ limit: '4kb' });
  const action = (start: (body: unknown) => boolean) => (req: Request, res: Response) => {
    let started: boolean;
    try {
      started = start(req.body);
    } catch (error) {
      const message = error instanceof ReplicaDemoError ? error.message : String(error);
      res.status(400).json({ error: message });
      return;
    }
    if (!started) {
      res.status(409).json({
        error: `Busy: ${actions.current ?? 'an action'} is running; wait for it, or stop it.`,
      });
      return;
    }
    res.status(202).json({ started: true });
  };
  app.post(
    '/api/blast',
    guard,
    json,
    action((body) => actions.blast(blastRequest(body))),
  );
  app.post(
    '/api/kill',
    guard,
    json,
    action((body) => actions.kill(killRequest(body))),
  );
  app.post(
    '/api/scale',
    guard,
    json,
    action((body) => actions.scale(scaleRequest(body))),
  );
  app.post('/api/stop', guard, json, (_req, res) => {
    res.json({ stopped: actions.stop() });
  });
  app.use((_req: Request, res: Response) => {
    res.status(404).type('text/plain').send('Not found.\n');
  });
  // A body that is not JSON, or too large: one plain line, never a stack.
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = (error as { status?: unknown }).status;
    const code = typeof status === 'number' && status >= 400 && status < 500 ? status : 500;
    res
      .status(code)
      .type('text/plain')
      .send(code === 500 ? 'Internal error.\n' : 'Bad request.\n');
  });
  return app;
}
