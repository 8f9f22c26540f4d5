import { heartbeat, sleep } from '@temporalio/activity';
import { XMLBuilder } from 'fast-xml-parser';
import JSZip from 'jszip';
import type { Connection } from 'jsforce';
import type { AppKind, ComponentNames, SalesforceTarget } from '../workflows/definitions';
import { StepId } from '../workflows/definitions';
import { retryUnanswered } from '../salesforce/call-retry';
import type { SalesforceClients } from '../salesforce/clients';
import { asSalesforceStep, failureFromResultErrors, salesforceFailure } from '../salesforce/errors';
import type { ResultError } from '../salesforce/errors';

const METADATA_NS = 'http://soap.sforce.com/2006/04/metadata';
/** Required by Salesforce even though the JWT bearer flow never redirects. */
const CALLBACK_URL = 'https://login.salesforce.com/services/oauth2/success';
const DEPLOY_POLL_MS = 500;
const DEPLOY_TIMEOUT_MS = 5 * 60_000;

export interface CreateClientAppInput {
  target: SalesforceTarget;
  appKind: AppKind;
  names: ComponentNames;
  certificatePem: string;
  /** Absent only for the creation check of preflight, which runs before the permission set exists. */
  permissionSetName?: string;
  /** Chosen by the workflow so that a retried connected-app deploy keeps the same key. */
  consumerKey: string;
  description: string;
}

export interface ClientAppRef {
  appKind: AppKind;
  apiName: string;
  id?: string;
  consumerKey: string;
}

interface MetadataFile {
  type: string;
  folder: string;
  suffix: string;
  fullName: string;
  body: Record<string, unknown>;
}

/** The External Client App's parts, named after the app, in the order they are created (delete in reverse). */
export function externalClientAppParts(apiName: string) {
  return {
    header: { type: 'ExternalClientApplication', folder: 'externalClientApps', suffix: 'eca', fullName: apiName },
    switches: {
      type: 'ExtlClntAppConfigurablePolicies',
      folder: 'extlClntAppPolicies',
      suffix: 'ecaPlcy',
      fullName: `${apiName}_plcy`,
    },
    oauth: {
      type: 'ExtlClntAppOauthSettings',
      folder: 'extlClntAppOauthSettings',
      suffix: 'ecaOauth',
      fullName: `${apiName}_oauth`,
    },
    globalOauth: {
      type: 'ExtlClntAppGlobalOauthSettings',
      folder: 'extlClntAppGlobalOauthSets',
      suffix: 'ecaGlblOauth',
      fullName: `${apiName}_glbloauth`,
    },
    policies: {
      type: 'ExtlClntAppOauthConfigurablePolicies',
      folder: 'extlClntAppOauthPolicies',
      suffix: 'ecaOauthPlcy',
      fullName: `${apiName}_oauthPlcy`,
    },
  } as const;
}

/**
 * Element order follows the Metadata WSDL's xsd:sequence (alphabetical for these types): Salesforce has been seen
 * to ignore misplaced elements.
 */
function sorted(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).sort(([a], [b]) => a.localeCompare(b)));
}

/** What the app's metadata is made from; the consumer key of a connected app can be set only when it is created. */
interface AppSpec {
  appKind: AppKind;
  names: Pick<ComponentNames, 'appLabel' | 'appApiName'>;
  certificatePem: string;
  permissionSetName?: string;
  consumerKey?: string;
  description: string;
}

function appFiles(input: AppSpec, contactEmail: string): MetadataFile[] {
  const { names } = input;
  if (input.appKind === 'connected_app') {
    return [
      {
        type: 'ConnectedApp',
        folder: 'connectedApps',
        suffix: 'connectedApp',
        fullName: names.appApiName,
        body: {
          contactEmail,
          description: input.description,
          label: names.appLabel,
          oauthConfig: sorted({
            callbackUrl: CALLBACK_URL,
            certificate: input.certificatePem,
            ...(input.consumerKey ? { consumerKey: input.consumerKey } : {}),
            isAdminApproved: true,
            scopes: ['Api', 'RefreshToken'],
          }),
          oauthPolicy: { ipRelaxation: 'ENFORCE', refreshTokenPolicy: 'infinite' },
          ...(input.permissionSetName ? { permissionSetName: [input.permissionSetName] } : {}),
        },
      },
    ];
  }
  const parts = externalClientAppParts(names.appApiName);
  return [
    {
      ...parts.header,
      body: sorted({
        contactEmail,
        description: input.description,
        distributionState: 'Local',
        isProtected: false,
        label: names.appLabel,
      }),
    },
    {
      // The app and its OAuth plugin switched on explicitly (Metadata API Developer Guide,
      // "ExtlClntAppConfigurablePolicies", API 60+). Both default to on, and Salesforce says an app's policies are
      // generated with default values when it is deployed, but not whether this component is generated when absent:
      // sending it keeps the JWT bearer flow independent of that, in the same deploy (no extra call).
      ...parts.switches,
      body: sorted({
        externalClientApplication: names.appApiName,
        isEnabled: true,
        isOauthPluginEnabled: true,
        label: parts.switches.fullName,
      }),
    },
    {
      ...parts.oauth,
      body: sorted({
        commaSeparatedOauthScopes: 'Api,RefreshToken',
        externalClientApplication: names.appApiName,
        label: parts.oauth.fullName,
      }),
    },
    {
      ...parts.globalOauth,
      body: sorted({
        callbackUrl: CALLBACK_URL,
        certificate: input.certificatePem,
        externalClientApplication: names.appApiName,
        isConsumerSecretOptional: true,
        isIntrospectAllTokens: false,
        isPkceRequired: false,
        isSecretRequiredForRefreshToken: false,
        label: parts.globalOauth.fullName,
      }),
    },
    {
      ...parts.policies,
      body: sorted({
        commaSeparatedPermissionSet: input.permissionSetName,
        externalClientApplication: names.appApiName,
        ipRelaxationPolicyType: 'Enforce',
        label: parts.policies.fullName,
        permittedUsersPolicyType: 'AdminApprovedPreAuthorized',
        refreshTokenPolicyType: 'Infinite',
      }),
    },
  ];
}

const xml = new XMLBuilder({ format: true, suppressEmptyNode: true, ignoreAttributes: false });

function xmlDocument(root: string, body: Record<string, unknown>): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${xml.build({ [root]: { '@_xmlns': METADATA_NS, ...body } })}`;
}

/** A deploy package: package.xml plus one file per component, in the folders Salesforce expects. */
async function buildPackage(files: MetadataFile[], apiVersion: string): Promise<Buffer> {
  const zip = new JSZip();
  const types = new Map<string, string[]>();
  for (const file of files) {
    types.set(file.type, [...(types.get(file.type) ?? []), file.fullName]);
    zip.file(`${file.folder}/${file.fullName}.${file.suffix}`, xmlDocument(file.type, file.body));
  }
  zip.file(
    'package.xml',
    xmlDocument('Package', {
      types: [...types].map(([name, members]) => ({ members, name })),
      version: apiVersion,
    }),
  );
  return zip.generateAsync({ type: 'nodebuffer' });
}

interface DeployMessage {
  componentType?: string;
  fullName?: string;
  id?: string;
  problem?: string;
  problemType?: string;
  success?: string | boolean;
}

function asArray<T>(value: T | T[] | undefined | null): T[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * Deploys a package and waits for it, heartbeating so that a stuck deploy is noticed and cancellable. A status check
 * that gets no answer is asked again, not the deploy restarted; a deploy that gets no answer is sent again (it
 * creates or updates, so two converge on the same components).
 */
async function deployAndWait(
  connection: Connection,
  zip: Buffer,
  options: { checkOnly: boolean },
  step: StepId,
): Promise<DeployMessage[]> {
  // jsforce answers a deploy with a locator, a thenable: awaiting it sends the call.
  const started = await retryUnanswered(async () =>
    connection.metadata.deploy(zip, {
      singlePackage: true,
      rollbackOnError: true,
      checkOnly: options.checkOnly,
    }),
  );
  const deadline = Date.now() + DEPLOY_TIMEOUT_MS;
  for (;;) {
    // Deploys are asynchronous: give this one a moment before asking, rather than polling a queued job.
    heartbeat({ deployId: started.id });
    await sleep(DEPLOY_POLL_MS);
    const result = await retryUnanswered(() => connection.metadata.checkDeployStatus(started.id, true));
    if (result.done === true || String(result.done) === 'true') {
      const failures = asArray(result.details?.componentFailures as DeployMessage | DeployMessage[] | undefined);
      if (result.status !== 'Succeeded' || failures.length > 0) {
        const first = failures[0];
        throw salesforceFailure(
          first?.problemType === 'Error' && first.problem?.includes('connected app')
            ? 'CONNECTED_APP_CREATION_BLOCKED'
            : (result.errorStatusCode ?? 'DEPLOY_FAILED'),
          first ? `${first.fullName ?? ''}: ${first.problem ?? ''}` : (result.errorMessage ?? 'deploy failed'),
          step,
        );
      }
      return asArray(result.details?.componentSuccesses as DeployMessage | DeployMessage[] | undefined);
    }
    if (Date.now() > deadline)
      throw salesforceFailure('DEPLOY_TIMEOUT', `deploy ${started.id} did not finish`, step, { transient: true });
  }
}

/** jsforce's metadata types stop at API 47; newer types (the External Client App parts) are typed here. */
export async function readMetadata<T>(
  connection: Connection,
  type: string,
  fullName: string,
): Promise<Partial<T> & { fullName?: string }> {
  const read = connection.metadata.read.bind(connection.metadata) as unknown as (
    t: string,
    n: string,
  ) => Promise<unknown>;
  return (await retryUnanswered(() => read(type, fullName))) ?? {};
}

function isMissing(errors: ResultError[] | ResultError | undefined): boolean {
  return asArray(errors).some((e) =>
    /NOT_FOUND|INVALID_CROSS_REFERENCE_KEY|ENTITY_IS_DELETED/i.test(
      `${e.statusCode ?? e.errorCode ?? ''} ${e.message ?? ''}`,
    ),
  );
}

export function createClientAppActivities({
  clients,
  contactEmail,
}: {
  clients: SalesforceClients;
  contactEmail: string;
}) {
  return {
    /**
     * Creates the OAuth client app with the JWT bearer certificate, open only to users pre-authorized through the
     * connection's permission set. A deploy creates or updates, so a retry after a lost answer converges on the
     * same single app.
     */
    async createClientApp(input: CreateClientAppInput): Promise<ClientAppRef> {
      const step = StepId.clientApp;
      return asSalesforceStep(step, async () => {
        const connection = await clients.admin(input.target, step);
        const files = appFiles(input, contactEmail);
        const successes = await deployAndWait(
          connection,
          await buildPackage(files, clients.apiVersion),
          { checkOnly: false },
          step,
        );
        const headerType = input.appKind === 'connected_app' ? 'ConnectedApp' : 'ExternalClientApplication';
        const id = successes.find((s) => s.componentType === headerType && s.fullName === input.names.appApiName)?.id;
        if (input.appKind === 'connected_app') {
          return { appKind: input.appKind, apiName: input.names.appApiName, id, consumerKey: input.consumerKey };
        }
        const global = externalClientAppParts(input.names.appApiName).globalOauth;
        const settings = await readMetadata<{ consumerKey: string }>(connection, global.type, global.fullName);
        if (!settings.consumerKey) {
          throw salesforceFailure('CONSUMER_KEY_MISSING', `${global.fullName} has no consumer key`, step, {
            transient: true,
          });
        }
        return { appKind: input.appKind, apiName: input.names.appApiName, id, consumerKey: settings.consumerKey };
      });
    },

    /** Validates a connected-app deploy without saving it: the only way to learn whether the org allows one. */
    async checkConnectedAppAllowed(input: CreateClientAppInput): Promise<void> {
      const step = StepId.preflight;
      await asSalesforceStep(step, async () => {
        const connection = await clients.admin(input.target, step);
        await deployAndWait(
          connection,
          await buildPackage(appFiles(input, contactEmail), clients.apiVersion),
          { checkOnly: true },
          step,
        );
      });
    },

    /**
     * Replaces the app's JWT certificate (certificate rotation). Only the component that carries the certificate is
     * updated; the consumer key stays as it is.
     */
    async updateClientAppCertificate(input: {
      target: SalesforceTarget;
      appKind: AppKind;
      appLabel: string;
      appApiName: string;
      permissionSetName: string;
      certificatePem: string;
      description: string;
    }): Promise<void> {
      const step = StepId.updateCertificate;
      await asSalesforceStep(step, async () => {
        const connection = await clients.admin(input.target, step);
        const files = appFiles(
          {
            appKind: input.appKind,
            names: { appLabel: input.appLabel, appApiName: input.appApiName },
            certificatePem: input.certificatePem,
            permissionSetName: input.permissionSetName,
            description: input.description,
          },
          contactEmail,
        );
        const carrier =
          input.appKind === 'connected_app'
            ? files[0]
            : files.find((f) => f.type === externalClientAppParts(input.appApiName).globalOauth.type);
        if (!carrier) throw new Error(`no certificate-carrying component for ${input.appKind}`);
        const update = connection.metadata.update.bind(connection.metadata) as unknown as (
          type: string,
          metadata: Record<string, unknown>,
        ) => Promise<{ success: boolean | string; errors?: ResultError | ResultError[] }>;
        const result = await retryUnanswered(() =>
          update(carrier.type, { fullName: carrier.fullName, ...carrier.body }),
        );
        if (String(result.success) !== 'true') throw failureFromResultErrors(asArray(result.errors), step);
      });
    },

    /** Deletes the app, whichever kind; parts already gone count as deleted. */
    async deleteClientApp(input: { target: SalesforceTarget; appKind: AppKind; apiName: string }): Promise<boolean> {
      const step = StepId.removeClientApp;
      return asSalesforceStep(step, async () => {
        const connection = await clients.admin(input.target, step);
        // One read tells whether the app exists: an External Client App's parts are deployed together, and its header
        // cannot be deleted while parts remain, so no header means nothing left. Parts removed by hand answer
        // "missing" to the delete and count as done. Fewer calls per attempt: each one can fail.
        const header =
          input.appKind === 'connected_app' ? 'ConnectedApp' : externalClientAppParts(input.apiName).header.type;
        if (!(await readMetadata(connection, header, input.apiName)).fullName) return false;
        const parts =
          input.appKind === 'connected_app'
            ? [{ type: 'ConnectedApp', fullName: input.apiName }]
            : Object.values(externalClientAppParts(input.apiName)).reverse();
        let removed = false;
        for (const part of parts) {
          const result = (await retryUnanswered(() =>
            connection.metadata.delete(part.type, part.fullName),
          )) as unknown as {
            success: boolean | string;
            errors?: ResultError | ResultError[];
          };
          if (String(result.success) === 'true') removed = true;
          else if (!isMissing(result.errors)) throw failureFromResultErrors(asArray(result.errors), step);
        }
        return removed;
      });
    },
  };
}
