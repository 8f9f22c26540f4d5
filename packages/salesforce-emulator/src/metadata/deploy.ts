/**
 * deploy + checkDeployStatus: a zip with package.xml, component files and optional destructiveChanges manifests,
 * applied asynchronously and always all-or-none (rollbackOnError honoured even if false: stricter).
 */
import JSZip from 'jszip';
import { SfError } from '../errors';
import type { Ctx } from '../engine';
import { normalizeId } from '../ids';
import type { Clock } from '../clock';
import type { Rec } from '../state';
import { checkFullName } from './checks';
import { requireMetadataAccess } from './crud';
import { remove, save } from './save';
import { SoapFault, asArray, xmlParser } from './soap';
import { DEPLOY_LAYOUT, ORDER, TYPES, typed } from './types';

export function startDeploy(ctx: Ctx, args: Rec, onDone: () => void): Rec {
  requireMetadataAccess(ctx);
  const zipB64 = args.ZipFile;
  if (typeof zipB64 !== 'string' || !zipB64) throw new SoapFault('soapenv:Client', 'Bad request: ZipFile is required');
  const opts = (args.DeployOptions && typeof args.DeployOptions === 'object' ? args.DeployOptions : {}) as Rec;
  const checkOnly = opts.checkOnly === 'true';
  const id = ctx.world.ids.next('0Af');
  const rec = { id, createdAt: ctx.world.clock.iso(), createdById: ctx.userId, checkOnly, status: 'Pending' as const };
  ctx.org.deploys.set(id, rec);
  const org = ctx.org;
  void runDeploy({ ...ctx }, id, zipB64, opts)
    .then((result) => {
      const d = org.deploys.get(id);
      if (d) {
        d.result = result;
        d.status = result.status as 'Succeeded' | 'Failed';
      }
    })
    .finally(onDone);
  return { done: false, id, state: 'Queued' };
}

// ------------------------------------------------------------------ reading the zip

interface DeployPackage {
  /** Every file of the zip (no folders). */
  names: string[];
  /** The folder holding package.xml ('' or 'name/'). */
  root: string;
  /** A file's text, by its path under the root. */
  text(p: string): Promise<string | undefined>;
}

type Problem = { error: string; code: string };

async function openPackage(zipB64: string): Promise<DeployPackage | Problem> {
  let zip: JSZip;
  try {
    zip = await JSZip.loadAsync(Buffer.from(zipB64, 'base64'));
  } catch {
    return { error: 'The deployment zip file is not a valid zip archive.', code: 'INVALID_ZIP' };
  }
  const names = Object.keys(zip.files).filter((n) => !zip.files[n]!.dir);
  const pkgPath = names.find((n) => /^([^/]+\/)?package\.xml$/.test(n));
  if (!pkgPath) return { error: 'No package.xml found', code: 'INVALID_PACKAGE' };
  const root = pkgPath.slice(0, -'package.xml'.length);
  return { names, root, text: async (p) => zip.file(root + p)?.async('string') };
}

/** Member names by type name; `error` when the manifest is not a Package. */
function parseManifest(xml: string, file: string): { types: Map<string, string[]>; error?: string } {
  const types = new Map<string, string[]>();
  try {
    const doc = xmlParser.parse(xml, true) as Rec;
    const pkg = doc.Package as Rec | undefined;
    if (!pkg || typeof pkg !== 'object') return { types, error: `${file}: root element must be Package` };
    for (const t of asArray(pkg.types as Rec | Rec[] | undefined)) {
      const name = typeof t.name === 'string' ? t.name : '';
      types.set(name, [...(types.get(name) ?? []), ...asArray(t.members as string | string[] | undefined).map(String)]);
    }
    return { types };
  } catch (e) {
    return { types, error: `${file}: ${e instanceof Error ? e.message.split('\n')[0] : 'invalid XML'}` };
  }
}

interface Destructive {
  file: string;
  types: Map<string, string[]>;
  /** destructiveChangesPost.xml: applied after the saves (the others before). */
  post: boolean;
}

async function readManifests(
  pkg: DeployPackage,
): Promise<{ types: Map<string, string[]>; destructive: Destructive[] } | Problem> {
  const manifest = parseManifest((await pkg.text('package.xml'))!, 'package.xml');
  if (manifest.error) return { error: manifest.error, code: 'INVALID_PACKAGE' };
  const destructive: Destructive[] = [];
  for (const file of ['destructiveChangesPre.xml', 'destructiveChanges.xml', 'destructiveChangesPost.xml']) {
    const xml = await pkg.text(file);
    if (xml === undefined) continue;
    const m = parseManifest(xml, file);
    if (m.error) return { error: m.error, code: 'INVALID_PACKAGE' };
    destructive.push({ file, types: m.types, post: file === 'destructiveChangesPost.xml' });
  }
  return { types: manifest.types, destructive };
}

// ------------------------------------------------------------------ component messages

interface DeployMsg {
  changed: boolean;
  componentType: string;
  created: boolean;
  createdDate: string;
  deleted: boolean;
  fileName: string;
  fullName: string;
  problem?: string;
  problemType?: string;
  success: boolean;
}

/** The componentSuccesses and componentFailures of a deploy (package.xml counts as the first success). */
class DeployReport {
  readonly successes: DeployMsg[] = [];
  readonly failures: DeployMsg[] = [];

  constructor(
    private readonly root: string,
    private readonly clock: Clock,
  ) {
    this.succeeded('', 'package.xml', 'package.xml');
  }

  private msg(componentType: string, fullName: string, fileName: string, extra: Partial<DeployMsg>): DeployMsg {
    return {
      changed: false,
      componentType,
      created: false,
      createdDate: this.clock.iso(),
      deleted: false,
      fileName: this.root + fileName,
      fullName,
      success: true,
      ...extra,
    };
  }

  succeeded(type: string, name: string, file: string, extra: Partial<DeployMsg> = {}): void {
    this.successes.push(this.msg(type, name, file, extra));
  }

  failed(type: string, name: string, file: string, problem: string): void {
    this.failures.push(this.msg(type, name, file, { success: false, problemType: 'Error', problem }));
  }
}

// ------------------------------------------------------------------ loading and applying the components

interface Item {
  type: string;
  name: string;
  file: string;
  data?: Rec;
  problem?: string;
}

async function loadItem(pkg: DeployPackage, type: string, name: string, file: string): Promise<Item> {
  const xml = await pkg.text(file);
  if (xml === undefined) {
    return {
      type,
      name,
      file,
      problem: `An object '${name}' of type ${type} was named in package.xml, but was not found in zipped directory`,
    };
  }
  try {
    const doc = xmlParser.parse(xml, true) as Rec;
    const body = doc[type];
    if (body === undefined) throw new SoapFault('soapenv:Client', `root element must be ${type}`);
    return { type, name, file, data: { ...typed(type, TYPES[type]!, body), fullName: name } };
  } catch (e) {
    return { type, name, file, problem: e instanceof Error ? e.message.split('\n')[0]! : 'invalid XML' };
  }
}

/** The components package.xml names (`*`: every file of the type's folder); unknown types fail in `report`. */
async function loadItems(pkg: DeployPackage, types: Map<string, string[]>, report: DeployReport): Promise<Item[]> {
  const items: Item[] = [];
  for (const [type, members] of types) {
    const layout = DEPLOY_LAYOUT[type];
    if (!layout) {
      report.failed(type, type, 'package.xml', `Unknown type name '${type}' specified in package.xml`);
      continue;
    }
    const folder = `${pkg.root}${layout.folder}/`;
    const list = members.includes('*')
      ? pkg.names
          .filter((n) => n.startsWith(folder) && n.endsWith(`.${layout.suffix}`))
          .map((n) => n.slice(folder.length, -(layout.suffix.length + 1)))
      : members;
    for (const name of list) items.push(await loadItem(pkg, type, name, `${layout.folder}/${name}.${layout.suffix}`));
  }
  return items;
}

function applyDeletes(ctx: Ctx, report: DeployReport, types: Map<string, string[]>, file: string): void {
  for (const type of [...ORDER].reverse()) {
    for (const name of types.get(type) ?? []) {
      const comp = ctx.org.getMeta(type, name);
      if (!comp) {
        report.succeeded(type, name, file, { problemType: 'Warning', problem: `No ${type} named: ${name} found` });
        continue;
      }
      try {
        remove(ctx, type, comp);
        report.succeeded(type, name, file, { deleted: true, changed: true });
      } catch (e) {
        if (!(e instanceof SfError)) throw e;
        report.failed(type, name, file, e.message);
      }
    }
  }
}

/** Saves the components in dependency order (headers before their settings). */
function applySaves(ctx: Ctx, report: DeployReport, items: Item[]): void {
  const sorted = [...items].sort((x, y) => ORDER.indexOf(x.type) - ORDER.indexOf(y.type));
  for (const item of sorted) {
    if (item.problem || !item.data) {
      report.failed(item.type, item.name, item.file, item.problem ?? 'invalid component');
      continue;
    }
    try {
      checkFullName(item.type, item.data);
      const existing = ctx.org.getMeta(item.type, item.name);
      save(ctx, item.type, item.data, existing);
      report.succeeded(item.type, item.name, item.file, { created: !existing, changed: !!existing });
    } catch (e) {
      if (!(e instanceof SfError)) throw e;
      report.failed(item.type, item.name, item.file, e.message);
    }
  }
}

// ------------------------------------------------------------------ the deploy and its result

function deployBase(ctx: Ctx, id: string, opts: Rec): Rec {
  const started = ctx.world.clock.iso();
  return {
    id,
    checkOnly: opts.checkOnly === 'true',
    createdBy: ctx.userId.slice(0, 15),
    createdByName: 'Org Admin',
    createdDate: started,
    startDate: started,
    ignoreWarnings: opts.ignoreWarnings === 'true',
    rollbackOnError: true,
    runTestsEnabled: false,
    numberTestErrors: 0,
    numberTestsCompleted: 0,
    numberTestsTotal: 0,
    done: true,
  };
}

/** A deploy that failed as a whole (bad zip or manifest): no component was looked at. */
function failedDeploy(base: Rec, problem: Problem, clock: Clock): Rec {
  const now = clock.iso();
  return {
    ...base,
    completedDate: now,
    lastModifiedDate: now,
    details: { componentFailures: [], componentSuccesses: [] },
    errorMessage: problem.error,
    errorStatusCode: problem.code,
    numberComponentErrors: 0,
    numberComponentsDeployed: 0,
    numberComponentsTotal: 0,
    status: 'Failed',
    success: false,
  };
}

function finishedDeploy(base: Rec, report: DeployReport, clock: Clock): Rec {
  const ok = report.failures.length === 0;
  const now = clock.iso();
  return {
    ...base,
    completedDate: now,
    lastModifiedDate: now,
    details: { componentFailures: report.failures, componentSuccesses: report.successes },
    numberComponentErrors: report.failures.length,
    numberComponentsDeployed: ok ? report.successes.length - 1 : 0,
    numberComponentsTotal: report.successes.length - 1 + report.failures.length,
    status: ok ? 'Succeeded' : 'Failed',
    success: ok,
  };
}

async function runDeploy(ctx: Ctx, id: string, zipB64: string, opts: Rec): Promise<Rec> {
  const base = deployBase(ctx, id, opts);
  const pkg = await openPackage(zipB64);
  const clock = ctx.world.clock;
  if ('error' in pkg) return failedDeploy(base, pkg, clock);
  const manifests = await readManifests(pkg);
  if ('error' in manifests) return failedDeploy(base, manifests, clock);
  const report = new DeployReport(pkg.root, clock);
  const items = await loadItems(pkg, manifests.types, report);
  // Apply atomically (rollbackOnError is always honoured: stricter than allowing partial deploys).
  const org = ctx.org;
  const sp = org.savepoint();
  for (const d of manifests.destructive) if (!d.post) applyDeletes(ctx, report, d.types, d.file);
  applySaves(ctx, report, items);
  for (const d of manifests.destructive) if (d.post) applyDeletes(ctx, report, d.types, d.file);
  if (report.failures.length > 0 || base.checkOnly === true) org.rollbackTo(sp);
  org.journal = [];
  return finishedDeploy(base, report, clock);
}

export function checkDeployStatus(ctx: Ctx, args: Rec): Rec {
  const id = normalizeId(args.asyncProcessId);
  const d = id ? ctx.org.deploys.get(id) : undefined;
  if (!d)
    throw new SoapFault('sf:INVALID_ID_FIELD', `INVALID_ID_FIELD: invalid deploy id: ${String(args.asyncProcessId)}`);
  const includeDetails = args.includeDetails === 'true';
  if (!d.result) {
    return {
      checkOnly: d.checkOnly,
      createdBy: d.createdById.slice(0, 15),
      createdByName: 'Org Admin',
      createdDate: d.createdAt,
      done: false,
      id: d.id,
      ignoreWarnings: false,
      numberComponentErrors: 0,
      numberComponentsDeployed: 0,
      numberComponentsTotal: 0,
      numberTestErrors: 0,
      numberTestsCompleted: 0,
      numberTestsTotal: 0,
      rollbackOnError: true,
      runTestsEnabled: false,
      status: d.status,
      success: false,
    };
  }
  const r = { ...d.result };
  if (!includeDetails && r.success === true) delete r.details;
  // Keep WSDL element order roughly alphabetical for readability.
  return Object.fromEntries(
    Object.entries(r)
      .filter(([, v]) => v !== undefined)
      .sort(([x], [y]) => x.localeCompare(y)),
  );
}
