import type { RequestHandler, Router } from 'express';
import { HttpProblem } from '../problem';

type Method = 'GET' | 'POST' | 'PUT';

/**
 * Registers the handlers of one path; any other method answers 405 with the Allow header (OPTIONS answers 204 with
 * it), so that a client learns what the resource supports instead of getting a 404.
 */
export function resource(router: Router, path: string, handlers: Partial<Record<Method, RequestHandler[]>>): void {
  const route = router.route(path);
  const allowed = Object.keys(handlers) as Method[];
  const allow = [...allowed, ...(allowed.includes('GET') ? ['HEAD'] : []), 'OPTIONS'].join(', ');
  for (const method of allowed) {
    const chain = handlers[method] ?? [];
    if (method === 'GET') route.get(...chain);
    else if (method === 'POST') route.post(...chain);
    else route.put(...chain);
  }
  route.all((req, res) => {
    res.set('Allow', allow);
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    throw new HttpProblem(405, 'method-not-allowed', `${req.method} is not supported here; use ${allow}.`);
  });
}
