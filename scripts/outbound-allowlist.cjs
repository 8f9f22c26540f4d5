'use strict';
/**
 * Preloaded (`node --require`) into the API and the worker of `npm run schemathesis`: the process may open HTTP(S)
 * connections only to the `host:port` pairs listed in OUTBOUND_ALLOW (the Salesforce emulator). Generated requests
 * name org URLs on any host; with this guard the worker's Salesforce calls to them fail like an unreachable host
 * (ECONNREFUSED, retried as transient) and nothing, not even a DNS query, leaves the machine. Servers, Temporal's
 * gRPC connection and the process's own listening sockets are not affected.
 */
const http = require('node:http');
const https = require('node:https');

const allowed = new Set(
  (process.env.OUTBOUND_ALLOW || '')
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter(Boolean),
);

function refuse(options, callback) {
  const target = `${options.host || options.hostname || 'localhost'}:${options.port}`.toLowerCase();
  if (allowed.has(target)) return undefined;
  const error = new Error(`connect ECONNREFUSED ${target} (outside OUTBOUND_ALLOW)`);
  error.code = 'ECONNREFUSED';
  process.nextTick(() => callback(error));
  return error;
}

class AllowlistHttpAgent extends http.Agent {
  createConnection(options, callback) {
    return refuse(options, callback) ? undefined : super.createConnection(options, callback);
  }
}

class AllowlistHttpsAgent extends https.Agent {
  createConnection(options, callback) {
    return refuse(options, callback) ? undefined : super.createConnection(options, callback);
  }
}

http.globalAgent = new AllowlistHttpAgent({ keepAlive: true });
https.globalAgent = new AllowlistHttpsAgent({ keepAlive: true });
