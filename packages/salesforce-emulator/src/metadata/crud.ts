/** The CRUD calls of the Metadata API: create, read, update, upsert and deleteMetadata (at most 10 components each). */
import { SfError } from '../errors';
import { requirePerm, userPerms, type Ctx } from '../engine';
import { str } from '../ids';
import type { Org, Rec } from '../state';
import { checkFullName, noSuch, saveErr } from './checks';
import { remove, save } from './save';
import { MD_NS, SoapFault, asArray, type SoapCall } from './soap';
import { TYPES, serializeData, typed } from './types';

/** Every Metadata API call needs Modify Metadata or Modify All Data (else a SOAP fault). */
export function requireMetadataAccess(ctx: Ctx): void {
  const perms = userPerms(ctx.org, ctx.userId);
  if (!perms.PermissionsModifyMetadata && !perms.PermissionsModifyAllData) {
    throw new SoapFault(
      'sf:INSUFFICIENT_ACCESS',
      'INSUFFICIENT_ACCESS: use of the Metadata API requires a user with the ModifyAllData or ModifyMetadata permissions',
    );
  }
}

interface MetaItem {
  type: string;
  data: Rec;
}

function metadataItems(args: Rec): MetaItem[] {
  const items = asArray(args.metadata);
  if (items.length > 10)
    throw new SoapFault(
      'sf:LIMIT_EXCEEDED',
      'LIMIT_EXCEEDED: You can only create, update or delete up to 10 components per call.',
    );
  if (!items.length) throw new SoapFault('soapenv:Client', 'Bad request: at least one metadata element is required');
  return items.map((raw) => {
    const type = raw && typeof raw === 'object' ? (raw as Rec)['@_type'] : undefined;
    if (typeof type !== 'string') {
      throw new SoapFault(
        'soapenv:Client',
        `Must specify a {http://www.w3.org/2001/XMLSchema-instance}type attribute value for the {${MD_NS}}metadata element`,
      );
    }
    const t = type.replace(/^[A-Za-z0-9]+:/, '');
    const def = TYPES[t];
    if (!def) throw new SoapFault('sf:INVALID_TYPE', `INVALID_TYPE: Unknown type name '${t}' specified in the call`);
    return { type: t, data: typed(t, def, raw) };
  });
}

function typeAndNames(args: Rec): { type: string; names: string[] } {
  const type = typeof args.type === 'string' ? args.type : '';
  if (!TYPES[type])
    throw new SoapFault('sf:INVALID_TYPE', `INVALID_TYPE: Unknown type name '${type}' specified in the call`);
  const names = asArray(args.fullNames).map((n) => (typeof n === 'string' ? n : ''));
  if (names.length > 10)
    throw new SoapFault(
      'sf:LIMIT_EXCEEDED',
      'LIMIT_EXCEEDED: You can only read or delete up to 10 components per call.',
    );
  return { type, names };
}

/** Applies one component's change under a savepoint of its own (undone if it fails): its SaveResult. */
function saveResult(org: Org, fullName: unknown, fn: () => void): Rec {
  const sp = org.savepoint();
  try {
    fn();
    return { fullName: typeof fullName === 'string' ? fullName : '', success: true };
  } catch (e) {
    org.rollbackTo(sp);
    if (!(e instanceof SfError)) throw e;
    const err = e.toSave();
    return {
      errors: { fields: err.fields, message: err.message, statusCode: err.statusCode },
      fullName: typeof fullName === 'string' ? fullName : '',
      success: false,
    };
  }
}

/**
 * createMetadata, updateMetadata and upsertMetadata: each component is saved on its own (one SaveResult each; an
 * upsert's says whether it created the component).
 */
function saveEach(ctx: Ctx, args: Rec, mode: 'create' | 'update' | 'upsert'): Rec[] {
  const { org } = ctx;
  return metadataItems(args).map(({ type, data }) => {
    let created = false;
    const result = saveResult(org, data.fullName, () => {
      const name = checkFullName(type, data);
      const existing = org.getMeta(type, name);
      if (mode === 'create' && existing)
        throw saveErr('DUPLICATE_DEVELOPER_NAME', `There is already a ${type} named ${name}`, ['fullName']);
      if (mode === 'update') {
        if (!existing) throw noSuch(type, name);
        data.fullName = existing.fullName;
      }
      created = !existing;
      save(ctx, type, data, existing);
    });
    return mode === 'upsert' ? { created: result.success === true && created, ...result } : result;
  });
}

export function metadataOperationName(method: string): string {
  const map: Record<string, string> = {
    createMetadata: 'metadata.create',
    readMetadata: 'metadata.read',
    updateMetadata: 'metadata.update',
    upsertMetadata: 'metadata.upsert',
    deleteMetadata: 'metadata.delete',
    deploy: 'metadata.deploy',
    checkDeployStatus: 'metadata.checkDeployStatus',
  };
  return map[method] ?? `metadata.${method}`;
}

/** The metadata type(s) a call targets (for faults/counters), best effort. */
export function metadataObjects(call: SoapCall): string[] {
  if (typeof call.args.type === 'string') return [call.args.type];
  return asArray(call.args.metadata)
    .map((m) => (m && typeof m === 'object' ? str((m as Rec)['@_type']).replace(/^[A-Za-z0-9]+:/, '') : ''))
    .filter(Boolean);
}

/** Executes a Metadata API call; returns the `result` value (single or array) or throws SoapFault. */
export function metadataCall(ctx: Ctx, call: SoapCall): unknown {
  requireMetadataAccess(ctx);
  const { org } = ctx;
  const a = call.args;
  const single = <T>(list: T[]): T | T[] => (list.length === 1 ? list[0]! : list);
  switch (call.method) {
    case 'createMetadata':
      return single(saveEach(ctx, a, 'create'));
    case 'updateMetadata':
      return single(saveEach(ctx, a, 'update'));
    case 'upsertMetadata':
      return single(saveEach(ctx, a, 'upsert'));
    case 'deleteMetadata': {
      const { type, names } = typeAndNames(a);
      if (!names.length) throw new SoapFault('soapenv:Client', 'Bad request: fullNames is required');
      return single(
        names.map((name) =>
          saveResult(org, name, () => {
            // (choice) deleting a missing component fails (success=false, INVALID_CROSS_REFERENCE_KEY): stricter.
            const comp = org.getMeta(type, name);
            if (!comp) throw noSuch(type, name);
            remove(ctx, type, comp);
          }),
        ),
      );
    }
    case 'readMetadata': {
      const { type, names } = typeAndNames(a);
      requirePermRead(ctx);
      return {
        records: names.map((name) => {
          const comp = org.getMeta(type, name);
          // Salesforce returns an empty record (no fullName) for unknown names.
          return comp ? { '@type': type, ...serializeData(type, comp) } : null;
        }),
      };
    }
    default:
      throw new SoapFault(
        'soapenv:Client',
        `No operation available for request {${MD_NS}}${call.method}, please check the WSDL for the service.`,
      );
  }
}

function requirePermRead(ctx: Ctx): void {
  try {
    requirePerm(ctx, 'PermissionsModifyMetadata', 'PermissionsModifyAllData');
  } catch {
    throw new SoapFault('sf:INSUFFICIENT_ACCESS', 'INSUFFICIENT_ACCESS: insufficient access rights');
  }
}
