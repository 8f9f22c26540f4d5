/**
 * What the org offers the agent to read, for the admin page's picker: the objects an integration user can be granted
 * read access to, and an object's fields. Read from the org's describe as its admin; reads only.
 */
import type { Connection } from 'jsforce';
import { isNotFound } from './errors';

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

/** One call: the org's global describe. */
export async function listOrgObjects(connection: Connection): Promise<CatalogueObject[]> {
  const global = await connection.request<{ sobjects: GlobalEntry[] }>(
    `/services/data/v${connection.version}/sobjects`,
  );
  return catalogueObjects(global.sobjects);
}

/**
 * One call: the object's describe. Undefined when the org has no such object, or one the agent cannot be granted
 * (not a data object).
 */
export async function describeOrgObject(
  connection: Connection,
  name: string,
): Promise<{ object: CatalogueObject; fields: CatalogueField[] } | undefined> {
  let describe: GlobalEntry & { fields: DescribeField[] };
  try {
    describe = await connection.request<GlobalEntry & { fields: DescribeField[] }>(
      `/services/data/v${connection.version}/sobjects/${encodeURIComponent(name)}/describe`,
    );
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  const [object] = catalogueObjects([describe]);
  if (!object) return undefined;
  return { object, fields: catalogueFields(describe.fields) };
}
