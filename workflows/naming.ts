import type { ComponentNames } from './definitions';

/** FNV-1a, 32 bits, as 8 hex digits: a deterministic short hash usable inside the workflow sandbox. */
function shortHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/**
 * Salesforce API names: letters, digits and underscores, starting with a letter, no double or trailing underscore,
 * at most 40 characters for the apps (80 for permission sets).
 */
export function toApiName(label: string, maxLength: number): string {
  const name = label
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^[^A-Za-z]+/, '')
    .replace(/_+/g, '_')
    .slice(0, maxLength)
    .replace(/_+$/, '');
  return name || 'Agent';
}

function slug(label: string): string {
  return (
    label
      .normalize('NFKD')
      .replace(/\p{M}/gu, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 20) || 'agent'
  );
}

/** An API name that keeps its generation suffix whole however long the label, so generations never collide. */
function withGeneration(label: string, maxLength: number, generation: string | undefined): string {
  if (!generation) return toApiName(label, maxLength);
  return `${toApiName(label, maxLength - generation.length - 1)}_${generation}`;
}

/**
 * The generation suffix of the components a make-before-break reconnect creates: derived from the operation, so a
 * retry finds what an earlier attempt created, and different from the current components' names.
 */
export function generationOf(operationId: string): string {
  return `g${shortHash(operationId).slice(0, 6)}`;
}

/**
 * The names of everything one enable creates. Labels follow the agent's name ("Copilot for Sales connected app");
 * the username is unique across Salesforce (it carries the org and a hash of tenant and operation) and stable across
 * retries of the same operation, so that a retry finds the user an earlier attempt created.
 */
/** The labels an admin reads in Salesforce Setup: `Sales Agent connected app`, `… permission set`, `… integration user`. */
export function componentLabels(agentName: string): {
  appLabel: string;
  permissionSetLabel: string;
  userLastName: string;
} {
  const agent = agentName.trim();
  return {
    appLabel: `${agent} connected app`,
    permissionSetLabel: `${agent} permission set`,
    userLastName: `${agent} integration user`,
  };
}

export function componentNames(input: {
  agentName: string;
  tenantId: string;
  operationId: string;
  orgId: string;
  usernameDomain: string;
  /** A make-before-break reconnect's new components sit beside the current ones: their names carry this suffix. */
  generation?: string;
}): ComponentNames {
  const agent = input.agentName.trim();
  const suffix = input.generation ? ` ${input.generation}` : '';
  const appLabel = `${agent} connected app${suffix}`;
  const permissionSetLabel = `${agent} permission set${suffix}`;
  const userLastName = `${agent} integration user`;
  const hash = shortHash(`${input.tenantId}\u0000${input.operationId}`);
  return {
    appLabel,
    appApiName: withGeneration(`${agent} connected app`, 40, input.generation),
    permissionSetLabel,
    permissionSetName: withGeneration(`${agent} permission set`, 80, input.generation),
    userLastName,
    username: `${slug(agent)}.${hash}@${input.orgId.slice(0, 15).toLowerCase()}.${input.usernameDomain}`,
    userAlias: `${slug(agent).replace(/-/g, '').slice(0, 4)}${hash.slice(0, 4)}`,
  };
}

/** Where an operation's private key lives in the secret store; derived, so the saga can undo it before it exists. */
export function signingKeyRef(tenantId: string, operationId: string): string {
  return `tenants/${tenantId}/signing-keys/${operationId}`;
}

/** A short stable token for an operation, used in names that must change from one operation to the next. */
export function operationStamp(operationId: string): string {
  return shortHash(operationId);
}
