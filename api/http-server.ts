import http from 'node:http';
import type { RequestListener } from 'node:http';
import type { AppConfig } from '../config';

export type HttpServerConfig = Pick<
  AppConfig,
  'API_HEADERS_TIMEOUT_MS' | 'API_REQUEST_TIMEOUT_MS' | 'API_KEEP_ALIVE_TIMEOUT_MS'
>;

/**
 * The API's HTTP server, with timeouts that cut slow clients in seconds: a client that dribbles its headers gets
 * 408 after API_HEADERS_TIMEOUT_MS, one that dribbles its body after API_REQUEST_TIMEOUT_MS, and an idle keep-alive
 * connection is closed after API_KEEP_ALIVE_TIMEOUT_MS. Node checks the first two on a timer (30 s by default), so
 * the check runs at a fraction of the shortest of them, at most every second.
 */
export function createApiServer(app: RequestListener, config: HttpServerConfig): http.Server {
  const server = http.createServer(
    {
      headersTimeout: config.API_HEADERS_TIMEOUT_MS,
      requestTimeout: config.API_REQUEST_TIMEOUT_MS,
      keepAliveTimeout: config.API_KEEP_ALIVE_TIMEOUT_MS,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(config.API_HEADERS_TIMEOUT_MS / 4))),
    },
    app,
  );
  server.keepAliveTimeout = config.API_KEEP_ALIVE_TIMEOUT_MS;
  return server;
}
