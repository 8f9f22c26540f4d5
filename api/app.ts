import express from 'express';
import type { Client } from '@temporalio/client';

export interface AppDependencies {
  client: Client;
  /** Checks that Temporal answers; `/readyz` fails while it does not. */
  checkTemporal: () => Promise<void>;
}

/** The HTTP API: validates, authenticates, starts or reads workflows, and maps results. No business logic here. */
export function createApp(deps: AppDependencies): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await deps.checkTemporal();
      res.json({ status: 'ready', temporal: 'ok' });
    } catch {
      res.status(503).set('Retry-After', '5').json({ status: 'unavailable', temporal: 'unreachable' });
    }
  });
  return app;
}
