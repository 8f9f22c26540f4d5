/**
 * What an operation would do, read from the org without writing anything: the components it would create, change and
 * remove, the object and field grants, the licenses it needs, and the Salesforce calls it would make. Security
 * reviewers read this before they let an operation run.
 */
import type { Connection } from 'jsforce';
import { permissionChange, readPermissionRows } from '../salesforce/permission-rows';
import type { FieldGrant } from '../salesforce/components';
import { compositeInsertRequests } from '../salesforce/composite';
import { checkConfigurationInOrg } from '../salesforce/configuration-check';
import {
  INTEGRATION_LICENSE_NAME,
  INTEGRATION_PROFILE_NAME,
  INTEGRATION_PSL_NAME,
  hasSpareLicenses,
  inspectOrg,
  inspectionCalls,
  inspectionProblems,
  noOverlapProblem,
} from '../salesforce/org-inspection';
import type { InspectionProblem, OrgInspection } from '../salesforce/org-inspection';
import type { AgentConfiguration, AppKind, ConnectionDetails } from '../workflows/definitions';
import { StepId } from '../workflows/definitions';

export type PlannedOperation = 'enable' | 'update_access' | 'reconnect';

export interface PlannedComponent {
  kind: 'client_app' | 'permission_set' | 'integration_user' | 'user_access' | 'signing_key';
  name: string;
  label?: string;
  /** What happens to it, in the admin's words. */
  action: string;
}

export interface PlannedCall {
  api: string;
  purpose: string;
  count: number;
}

export interface Plan {
  operation: PlannedOperation;
  feasible: boolean;
  problems: InspectionProblem[];
  /** What may get in the way without stopping the operation (org controls whose effect cannot be read). */
  warnings: InspectionProblem[];
  create: PlannedComponent[];
  change: (PlannedComponent & { grant: FieldGrant[]; revoke: FieldGrant[] })[];
  remove: PlannedComponent[];
  grants: FieldGrant[];
  licenses: { name: string; needed: number; available?: number }[];
  /** A reconnect's: whether it can keep the current connection working until the new one works. */
  makeBeforeBreak?: { possible: boolean; reason?: string };
  salesforceCalls: { total: number; calls: PlannedCall[] };
}

const call = (api: string, purpose: string, count = 1): PlannedCall => ({ api, purpose, count });

function total(calls: PlannedCall[]) {
  return { total: calls.reduce((sum, c) => sum + c.count, 0), calls: calls.filter((c) => c.count > 0) };
}

/** Composite calls that write the grant rows, as the permission set step packs them. */
function grantCalls(version: string, grants: FieldGrant[]): number {
  return compositeInsertRequests(version, [
    { type: 'ObjectPermissions', oneByOne: true, records: grants.map((g) => ({ SobjectType: g.object })) },
    { type: 'FieldPermissions', records: grants.flatMap((g) => g.fieldPermissions.map((Field) => ({ Field }))) },
  ]).length;
}

/** The calls an enable makes when nothing fails, in order. */
function enableCalls(version: string, appKind: AppKind, grants: FieldGrant[], objects: number): PlannedCall[] {
  const connectedApp = appKind === 'connected_app';
  return [
    call(
      'REST composite/batch',
      'check the org, its controls, licenses, leftovers and every field',
      inspectionCalls(objects),
    ),
    call('Metadata deploy (check only)', 'ask whether the org still allows new connected apps', connectedApp ? 2 : 0),
    call('REST sobjects/PermissionSet', 'create the permission set'),
    call('REST composite', 'grant read on each object and field, all or none', grantCalls(version, grants)),
    call('REST sobjects/User', 'create the integration user'),
    call('REST sobjects/PermissionSetLicenseAssign', 'assign the API integration permission set license'),
    call('REST sobjects/PermissionSetAssignment', 'assign the permission set'),
    call('Metadata deploy and checkDeployStatus', 'create the OAuth client app with the certificate', 2),
    call('Metadata read', 'read back the consumer key'),
    call('OAuth token (JWT bearer)', 'the integration user signs in with the new app'),
    call('REST query', 'the integration user reads a granted object'),
  ];
}

function licenses(inspection: OrgInspection, freed: number): Plan['licenses'] {
  const available = (l?: { total: number; used: number }) => (l ? l.total - l.used + freed : 0);
  return [
    {
      name: `${INTEGRATION_LICENSE_NAME} user license`,
      needed: 1,
      available: available(inspection.integrationLicense),
    },
    {
      name: `${INTEGRATION_PSL_NAME} permission set license`,
      needed: 1,
      available: available(inspection.permissionSetLicense),
    },
  ];
}

function created(inspection: OrgInspection, appKind: AppKind): PlannedComponent[] {
  const { names } = inspection;
  const app = appKind === 'connected_app' ? 'Connected App' : 'External Client App';
  return [
    {
      kind: 'signing_key',
      name: 'RSA 2048 key pair and X.509 certificate',
      action: 'generate; the key stays in the service’s secret store',
    },
    {
      kind: 'permission_set',
      name: names.permissionSetName,
      label: names.permissionSetLabel,
      action: 'create, read access only',
    },
    {
      kind: 'integration_user',
      name: names.username,
      label: names.userLastName,
      action: `create on the ${INTEGRATION_LICENSE_NAME} license, profile ${INTEGRATION_PROFILE_NAME}`,
    },
    { kind: 'user_access', name: names.username, action: 'assign the permission set and its license' },
    {
      kind: 'client_app',
      name: names.appApiName,
      label: names.appLabel,
      action: `create an ${app}: JWT bearer with the certificate, admin-approved users only`,
    },
  ];
}

export interface EnablePlanInput {
  tenantId: string;
  operationId: string;
  agentName: string;
  agentConfiguration: AgentConfiguration;
  appKind: AppKind;
  usernameDomain: string;
}

/**
 * A reconnect of a working connection makes before it breaks when the org has a spare license for the overlap;
 * otherwise it needs the admin's confirmation of break before make.
 */
function makeBeforeBreakOf(inspection: OrgInspection, working: boolean): NonNullable<Plan['makeBeforeBreak']> {
  if (!working) {
    return { possible: false, reason: 'The connection does not work: a reconnect removes it before creating it.' };
  }
  if (hasSpareLicenses(inspection)) return { possible: true };
  const problem = noOverlapProblem(inspection);
  return { possible: false, reason: `${problem.message} ${problem.fix}` };
}

/**
 * An enable's plan; with `current`, a reconnect's: the current connection's components are removed, after the new
 * ones work when the connection works and the org has a spare license (`working`), first otherwise.
 */
export async function planEnable(
  connection: Connection,
  input: EnablePlanInput,
  current?: ConnectionDetails,
  working = false,
): Promise<Plan> {
  const inspection = await inspectOrg(connection, input, StepId.plan);
  const replacing = Boolean(current);
  const makeBeforeBreak = replacing ? makeBeforeBreakOf(inspection, working) : undefined;
  const problems = inspectionProblems(inspection, { replacing }).flat();
  const overlapWarning = replacing && working && !makeBeforeBreak?.possible ? [noOverlapProblem(inspection)] : [];
  const { grants } = inspection.configuration;
  const calls = enableCalls(connection.version, input.appKind, grants, input.agentConfiguration.objects.length);
  return {
    operation: replacing ? 'reconnect' : 'enable',
    feasible: problems.length === 0,
    problems,
    warnings: [
      ...inspection.orgControls
        .filter((p) => p.severity === 'warning')
        .map(({ code, message, fix }) => ({ code, message, fix })),
      ...overlapWarning,
    ],
    create: created(inspection, input.appKind),
    change: [],
    remove: current ? removed(current) : [],
    grants,
    licenses: licenses(inspection, replacing && !makeBeforeBreak?.possible ? 1 : 0),
    ...(makeBeforeBreak ? { makeBeforeBreak } : {}),
    salesforceCalls: total(current ? [...removalCalls(current), ...calls] : calls),
  };
}

function removed(details: ConnectionDetails): PlannedComponent[] {
  return [
    { kind: 'client_app', name: details.appApiName, label: details.appLabel, action: 'delete (no new tokens)' },
    { kind: 'user_access', name: details.integrationUsername, action: 'remove its permission set and license' },
    {
      kind: 'integration_user',
      name: details.integrationUsername,
      action: 'deactivate and rename (Salesforce cannot delete users)',
    },
    { kind: 'permission_set', name: details.permissionSetName, action: 'delete' },
    { kind: 'signing_key', name: 'the current private key', action: 'delete from the secret store' },
  ];
}

function removalCalls(details: ConnectionDetails): PlannedCall[] {
  const parts = details.appKind === 'external_client_app' ? 5 : 1;
  return [
    call('Metadata read and delete', 'delete the OAuth client app and its settings', 1 + parts),
    call('REST query', 'find the integration users and their assignments', 3),
    call('REST sobjects (delete)', 'remove the permission set and license assignments', 2),
    call('REST sobjects/User (update)', 'deactivate and rename the integration user'),
    call('REST query and sobjects/PermissionSet (delete)', 'delete the permission set', 3),
  ];
}

/** Update access in place: the permission set's rows change; nothing is created or removed. */
export async function planUpdateAccess(
  connection: Connection,
  details: ConnectionDetails,
  configuration: AgentConfiguration,
): Promise<Plan> {
  const check = await checkConfigurationInOrg(connection, configuration, StepId.plan);
  const rows = await readPermissionRows(connection, details.permissionSetId, StepId.plan);
  const change = permissionChange(rows, check.grants, details.permissionSetId);
  const changes = change.deleteIds.length + change.inserts.reduce((n, g) => n + g.records.length, 0);
  const problems = check.problems.map((p) => ({
    code: 'INVALID_FIELD',
    message: p.message,
    fix: 'Fix the agent configuration, then plan again.',
  }));
  return {
    operation: 'update_access',
    feasible: problems.length === 0,
    problems,
    warnings: [],
    create: [],
    change: [
      {
        kind: 'permission_set',
        name: details.permissionSetName,
        action: 'grant and revoke read access in one all-or-none call',
        grant: change.granted,
        revoke: change.revoked,
      },
    ],
    remove: [],
    grants: check.grants,
    licenses: [],
    salesforceCalls: total([
      call('REST composite/batch', 'check the configuration and read the permission set’s rows'),
      call('REST composite', 'change the rows, all or none', changes > 0 ? 1 : 0),
      call('OAuth token (JWT bearer)', 'the integration user signs in'),
      call('REST query', 'the integration user reads the newly granted fields'),
    ]),
  };
}
