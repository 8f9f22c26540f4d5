/**
 * Checks an agent configuration against what the org's describe says: every object exists and can be queried, every
 * field exists. Shared by the enable's preflight and the API, which refuses a configuration the org cannot serve
 * before anything is saved or touched.
 */
import type { Connection } from 'jsforce';
import type { AgentConfiguration, ObjectFieldSelection, StepId } from '../workflows/definitions';
import type { FieldGrant } from './components';
import { salesforceFailure } from './errors';
import { compositeBatch, subrequestError } from './soql';
import type { BatchSubresponse } from './soql';

/** One thing of the configuration the org cannot serve, named precisely enough to fix it. */
export interface ConfigurationProblem {
  object: string;
  field?: string;
  /** Where it is in the configuration: `objects[i]` or `objects[i].fields[j]`. */
  path: string;
  message: string;
}

export interface ConfigurationCheck {
  grants: FieldGrant[];
  problems: ConfigurationProblem[];
}

interface DescribeField {
  name: string;
  permissionable?: boolean;
}

interface DescribeResult {
  queryable?: boolean;
  fields: DescribeField[];
}

/** The describe subrequests of a Composite Batch, one per configured object, in order. */
export function describeRequests(configuration: AgentConfiguration): { method: 'GET'; url: string }[] {
  return configuration.objects.map((o) => ({
    method: 'GET' as const,
    url: `/sobjects/${encodeURIComponent(o.object)}/describe`,
  }));
}

function checkObject(
  selection: ObjectFieldSelection,
  index: number,
  response: BatchSubresponse | undefined,
  step: StepId,
): { grant?: FieldGrant; problems: ConfigurationProblem[] } {
  const path = `objects[${index}]`;
  if (!response || response.statusCode === 404) {
    return {
      problems: [{ object: selection.object, path, message: `Object ${selection.object} does not exist in this org.` }],
    };
  }
  const error = subrequestError(response);
  if (error) throw salesforceFailure(error.errorCode, `describe ${selection.object}: ${error.message}`, step);
  const describe = response.result as DescribeResult;
  if (describe.queryable === false) {
    const message = `Object ${selection.object} cannot be read through Salesforce's API.`;
    return { problems: [{ object: selection.object, path, message }] };
  }
  const byName = new Map(describe.fields.map((f) => [f.name.toLowerCase(), f]));
  const problems: ConfigurationProblem[] = [];
  const grant: FieldGrant = { object: selection.object, fields: [], fieldPermissions: [] };
  selection.fields.forEach((requested, j) => {
    const field = byName.get(requested.toLowerCase());
    if (!field) {
      const message = `Field ${selection.object}.${requested} does not exist in this org.`;
      problems.push({ object: selection.object, field: requested, path: `${path}.fields[${j}]`, message });
      return;
    }
    grant.fields.push(field.name);
    // Non-permissionable fields (Id, required fields) are readable through object access and take no FLS row.
    if (field.permissionable) grant.fieldPermissions.push(`${selection.object}.${field.name}`);
  });
  return { grant, problems };
}

/** Reads the describe subresponses (in the order of describeRequests) into grants and problems. */
export function checkConfiguration(
  configuration: AgentConfiguration,
  responses: (BatchSubresponse | undefined)[],
  step: StepId,
): ConfigurationCheck {
  const check: ConfigurationCheck = { grants: [], problems: [] };
  configuration.objects.forEach((selection, i) => {
    const { grant, problems } = checkObject(selection, i, responses[i], step);
    if (grant) check.grants.push(grant);
    check.problems.push(...problems);
  });
  return check;
}

/** Describes every configured object as the admin (one Composite Batch call per 25 objects) and checks them. */
export async function checkConfigurationInOrg(
  connection: Connection,
  configuration: AgentConfiguration,
  step: StepId,
): Promise<ConfigurationCheck> {
  const responses = await compositeBatch(connection, describeRequests(configuration));
  return checkConfiguration(configuration, responses, step);
}
