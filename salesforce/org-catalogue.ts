/**
 * What the org offers the agent to read, for the admin page's picker: the objects an integration user can be granted
 * read access to, and an object's fields. Read from the org's describe as its admin; reads only.
 */
import type { Connection } from 'jsforce';
import { StepId } from '../workflows/definitions';
import { salesforceFailure } from './errors';
import { compositeBatch, subrequestError } from './soql';

export interface CatalogueObject {
  name: string;
  label: string;
  custom: boolean;
}

export interface CatalogueField {
  name: string;
  label: string;
  type: string;
  custom: boolean;
  /** False for fields read through object access alone (Id, required fields): they take no field permission. */
  permissionable: boolean;
}

interface GlobalEntry {
  name: string;
  label: string;
  custom?: boolean;
  queryable?: boolean;
  layoutable?: boolean;
  deprecatedAndHidden?: boolean;
}

interface DescribeField {
  name: string;
  label?: string;
  type?: string;
  custom?: boolean;
  permissionable?: boolean;
  deprecatedAndHidden?: boolean;
}

/**
 * Object families an integration user never reads as data: sharing rows, field history, feeds, change and platform
 * events. Setup objects (users, permission sets) are not layoutable, so the describe already tells them apart.
 */
const NOT_DATA = /(?:Share|History|Feed|ChangeEvent|__e|__mdt|__x|__b)$/;

/** Data objects the Salesforce Integration license can be granted read access to, sorted by label. */
export function catalogueObjects(entries: GlobalEntry[]): CatalogueObject[] {
  return entries
    .filter((o) => o.queryable !== false && o.layoutable === true && !o.deprecatedAndHidden && !NOT_DATA.test(o.name))
    .map((o) => ({ name: o.name, label: o.label, custom: Boolean(o.custom) }))
    .sort((a, b) => a.label.localeCompare(b.label));
}

export function catalogueFields(fields: DescribeField[]): CatalogueField[] {
  return fields
    .filter((f) => !f.deprecatedAndHidden)
    .map((f) => ({
      name: f.name,
      label: f.label ?? f.name,
      type: f.type ?? 'string',
      custom: Boolean(f.custom),
      permissionable: Boolean(f.permissionable),
    }))
    .sort((a, b) => a.label.localeCompare(b.label));
}

/**
 * One describe as a Composite Batch subrequest: a POST, which jsforce does not retry by itself, so that a request of
 * the page gets an answer at once rather than after its GET retries (and it is the same call as the preflight's).
 */
async function describe<T>(connection: Connection, url: string): Promise<T | undefined> {
  const [response] = await compositeBatch(connection, [{ method: 'GET', url }]);
  if (!response || response.statusCode === 404) return undefined;
  const error = subrequestError(response);
  if (error) throw salesforceFailure(error.errorCode, `describe: ${error.message}`, StepId.configurationCheck);
  return response.result as T;
}

/** One call: the org's global describe. */
export async function listOrgObjects(connection: Connection): Promise<CatalogueObject[]> {
  const global = await describe<{ sobjects: GlobalEntry[] }>(connection, '/sobjects');
  return catalogueObjects(global?.sobjects ?? []);
}

/**
 * One call: the object's describe. Undefined when the org has no such object, or one the agent cannot be granted
 * (not a data object).
 */
export async function describeOrgObject(
  connection: Connection,
  name: string,
): Promise<{ object: CatalogueObject; fields: CatalogueField[] } | undefined> {
  const described = await describe<GlobalEntry & { fields: DescribeField[] }>(
    connection,
    `/sobjects/${encodeURIComponent(name)}/describe`,
  );
  if (!described) return undefined;
  const [object] = catalogueObjects([described]);
  if (!object) return undefined;
  return { object, fields: catalogueFields(described.fields) };
}
