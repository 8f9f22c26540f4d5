/** Validation shared by the metadata types: SaveResult errors, certificates, consumer keys, picklists, references. */
import { X509Certificate, randomBytes } from 'node:crypto';
import { SfError } from '../errors';
import { isApiName, isEmail } from '../engine';
import { normalizeId, randomAlnum, str } from '../ids';
import type { Org, Rec, World } from '../state';

export const saveErr = (statusCode: string, message: string, fields: string[] = []): SfError =>
  new SfError(statusCode, message, fields);

export function normalizeCertificate(cert: string): X509Certificate {
  const body = cert.includes('-----BEGIN')
    ? cert
    : `-----BEGIN CERTIFICATE-----\n${cert.replace(/\s+/g, '')}\n-----END CERTIFICATE-----\n`;
  return new X509Certificate(body);
}

export function checkCertificate(cert: unknown): void {
  if (cert === undefined || cert === null) return;
  try {
    const x = normalizeCertificate(str(cert));
    const key = x.publicKey;
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    // (choice) RSA ≥ 2048 only (ECDSA not accepted for JWT bearer per docs 3).
    if (key.asymmetricKeyType !== 'rsa' || bits < 2048) throw new Error('not RSA-2048+');
  } catch {
    throw saveErr(
      'FIELD_INTEGRITY_EXCEPTION',
      'certificate: The certificate is not a valid PEM-encoded X.509 RSA (2048 bits or more) certificate.',
      ['certificate'],
    );
  }
}

const CONSUMER_KEY = /^[A-Za-z0-9]{8,256}$/;
export const newConsumerKey = (): string => `3MVG9${randomAlnum(80, randomBytes)}`;

export function checkConsumerKey(world: World, key: unknown, field: string): void {
  if (typeof key !== 'string' || !CONSUMER_KEY.test(key)) {
    throw saveErr('FIELD_INTEGRITY_EXCEPTION', `${field}: the consumer key must be 8 to 256 alphanumeric characters.`, [
      field,
    ]);
  }
  if (world.findConsumerKey(key)) throw saveErr('DUPLICATE_VALUE', 'The consumer key is already taken.', [field]);
}

function findPermissionSet(org: Org, ref: string): Rec | undefined {
  const id = normalizeId(ref);
  for (const ps of org.rows('PermissionSet')) {
    if (ps.IsOwnedByProfile) continue;
    if ((id && ps.Id === id) || String(ps.Name).toLowerCase() === ref.toLowerCase()) return ps;
  }
  return undefined;
}

function findProfile(org: Org, ref: string): Rec | undefined {
  const id = normalizeId(ref);
  for (const p of org.rows('Profile'))
    if ((id && p.Id === id) || String(p.Name).toLowerCase() === ref.toLowerCase()) return p;
  return undefined;
}

const SCOPES = new Set([
  'Api',
  'Basic',
  'Chatter',
  'CustomApplications',
  'CustomPermissions',
  'Full',
  'OpenID',
  'RefreshToken',
  'Web',
  'Wave',
  'Eclair',
  'Pardot',
  'Lightning',
  'Content',
  'CDPIngest',
  'CDPProfile',
  'CDPQuery',
  'Chatbot',
  'Address',
  'Email',
  'Phone',
  'Profile',
  'VisualforcePages',
  'OfflineAccess',
  'Forcedotcom',
  'InteractionsApi',
  'MCPApi',
  'AgentApi',
]);

const picklistError = (field: string, value: string): SfError =>
  saveErr('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `${field}: bad value for restricted picklist field: ${value}`, [
    field,
  ]);

/** A restricted picklist field: absent, or one of `values`. */
export function checkPicklist(data: Rec, field: string, values: string[]): void {
  if (data[field] !== undefined && !values.includes(str(data[field]))) throw picklistError(field, str(data[field]));
}

export function checkScopes(list: string[], field: string): void {
  for (const s of list) if (!SCOPES.has(s)) throw picklistError(field, s);
}

/** The names in a comma-separated field (External Client App scopes, permission sets, profiles). */
export const commaList = (v: unknown): string[] =>
  str(v)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Every name is a permission set (not a profile's own) or a profile of the org, by name or id. */
export function checkReferences(org: Org, field: string, kind: 'PermissionSet' | 'Profile', names: string[]): void {
  const find = kind === 'PermissionSet' ? findPermissionSet : findProfile;
  for (const n of names) {
    if (!find(org, n))
      throw saveErr('INVALID_CROSS_REFERENCE_KEY', `In field: ${field} - no ${kind} named ${n} found`, [field]);
  }
}

export function required(data: Rec, ...names: string[]): void {
  for (const n of names) {
    if (data[n] === undefined || data[n] === null || data[n] === '') {
      throw saveErr('REQUIRED_FIELD_MISSING', `Required field is missing: ${n}`, [n]);
    }
  }
}

/** What a connected app and an External Client App both need: a label and a valid contact email. */
export function checkLabelAndContact(data: Rec): void {
  required(data, 'label', 'contactEmail');
  if (!isEmail(String(data.contactEmail)))
    throw saveErr('INVALID_EMAIL_ADDRESS', `contactEmail: invalid email address: ${String(data.contactEmail)}`, [
      'contactEmail',
    ]);
}

export function checkFullName(type: string, data: Rec): string {
  const fullName = data.fullName;
  if (typeof fullName !== 'string' || !fullName)
    throw saveErr('REQUIRED_FIELD_MISSING', 'Required field is missing: fullName', ['fullName']);
  if (!isApiName(fullName))
    throw saveErr(
      'INVALID_NAME',
      `${type} fullName "${fullName}": the name can only contain underscores and alphanumeric characters, must begin with a letter, not include spaces, not end with an underscore, and not contain two consecutive underscores.`,
      ['fullName'],
    );
  return fullName;
}

export const noSuch = (type: string, name: string): SfError =>
  saveErr('INVALID_CROSS_REFERENCE_KEY', `In field: fullName - no ${type} named ${name} found`, ['fullName']);
