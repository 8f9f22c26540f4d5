/**
 * Metadata API (SOAP) at {instanceUrl}/services/Soap/m/NN.0: createMetadata, readMetadata, updateMetadata,
 * upsertMetadata, deleteMetadata (≤10 components), deploy + checkDeployStatus, for ConnectedApp and the four
 * External Client App types. Business errors are returned inside HTTP 200 SaveResults; session/type/envelope errors
 * are SOAP faults (HTTP 500).
 *
 * soap.ts: envelopes and faults; types.ts: the types' WSDL shape; checks.ts: shared validation; component.ts,
 * connected-app.ts, external-client-app.ts: one handler per type, dispatched by save.ts; crud.ts and deploy.ts: the
 * calls.
 */
export { SoapFault, MD_NS, parseEnvelope, sessionFault, soapFault, soapResponse, toXml, type SoapCall } from './soap';
export { DEPLOY_LAYOUT, METADATA_TYPES } from './types';
export { normalizeCertificate } from './checks';
export { CONNECTED_APP_BLOCKED } from './connected-app';
export { metadataCall, metadataObjects, metadataOperationName } from './crud';
export { checkDeployStatus, startDeploy } from './deploy';
