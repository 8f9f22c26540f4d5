export { connectionWorkflow } from './connection';
export { enableConnection } from './enable-connection';
export { disableConnection } from './disable-connection';
export { reconnectConnection } from './reconnect-connection';
export { rotateCertificate } from './rotate-certificate';
export { connectionHealthCheck } from './health-check';
export { updateAccess } from './update-access';
export { deliverWebhooks } from './webhooks';
