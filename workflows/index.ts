export { connectionWorkflow } from './connection';
export { enableConnection } from './enable-connection';
export { disableConnection } from './disable-connection';
export { reconnectConnection } from './reconnect-connection';
