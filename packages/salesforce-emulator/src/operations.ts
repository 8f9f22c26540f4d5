/**
 * Stable operation names used by fault matching (`match.operation`) and by counters (`byOperation`).
 * `object` in a fault matches the sObject (REST) or metadata type (SOAP); for composite, composite/batch and
 * collections it matches when any subrequest/record targets that object. An error fault naming a subrequest's own
 * operation (e.g. `rest.collections.create`) also fails that subrequest inside a composite or batch call.
 */
export const FAULT_OPERATIONS = {
  'oauth.authorize': 'GET|POST /services/oauth2/authorize (the web server flow’s sign-in page)',
  'oauth.token': 'POST /services/oauth2/token (refresh_token, authorization_code and JWT bearer grants)',
  'oauth.identity': 'GET /id/{orgId}/{userId}',
  'rest.versions': 'GET /services/data/',
  'rest.resources': 'GET /services/data/vNN.0/',
  'rest.describeGlobal': 'GET sobjects',
  'rest.describe': 'GET sobjects/{type}/describe (and GET sobjects/{type})',
  'rest.create': 'POST sobjects/{type}',
  'rest.read': 'GET sobjects/{type}/{id}',
  'rest.update': 'PATCH sobjects/{type}/{id}',
  'rest.delete': 'DELETE sobjects/{type}/{id}',
  'rest.query': 'GET query?q= / queryAll / query/{locator}',
  'rest.composite': 'POST composite',
  'rest.compositeBatch': 'POST composite/batch',
  'rest.collections.create': 'POST composite/sobjects',
  'rest.collections.update': 'PATCH composite/sobjects',
  'rest.collections.delete': 'DELETE composite/sobjects?ids=',
  'rest.collections.retrieve': 'GET|POST composite/sobjects/{type}',
  'rest.limits': 'GET limits',
  'rest.other': 'any other REST path',
  'metadata.create': 'SOAP createMetadata',
  'metadata.read': 'SOAP readMetadata',
  'metadata.update': 'SOAP updateMetadata',
  'metadata.upsert': 'SOAP upsertMetadata',
  'metadata.delete': 'SOAP deleteMetadata',
  'metadata.deploy': 'SOAP deploy',
  'metadata.checkDeployStatus': 'SOAP checkDeployStatus',
  'metadata.invalid': 'SOAP request whose envelope could not be parsed',
} as const;
export type FaultOperation = keyof typeof FAULT_OPERATIONS;
