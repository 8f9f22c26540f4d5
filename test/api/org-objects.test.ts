import fs from 'node:fs';
import request from 'supertest';
import type { ConnectionView, OrgFieldsView, OrgObjectsView } from '../../api/schemas';
import type { ApiStack } from './api-stack';
import { AGENT_CONFIGURATION, startApiStack, uniqueTenant, waitForConnection } from './api-stack';

/**
 * The picker's routes: what the org offers the agent to read, from its describe, as its admin; and the plain 422 of
 * an enable with nothing to read.
 */
describe('the org objects and fields the agent can read', () => {
  let stack: ApiStack;

  beforeAll(async () => {
    stack = await startApiStack();
  });

  afterAll(async () => {
    await stack?.close();
  });

  const get = (path: string, query: Record<string, string> = {}, key = stack.keys.read) =>
    request(stack.app).get(path).query(query).set('Authorization', `Bearer ${key}`);

  const storedFiles = () => fs.readdirSync(stack.secretsDir, { recursive: true }).map(String).sort();

  async function signedIn(tenant: string) {
    const org = await stack.emulator.control.createOrg({ key: tenant });
    const ref = await stack.secrets.put(
      `tenants/${tenant}/admin/picker`,
      JSON.stringify({ accessToken: org.accessToken, refreshToken: org.refreshToken }),
    );
    return { org, query: { secretRef: ref.secretRef, loginUrl: org.loginUrl, instanceUrl: org.instanceUrl } };
  }

  it('lists the data objects with stored credentials before any connection, and an object’s fields', async () => {
    const tenant = uniqueTenant('pick');
    const { query } = await signedIn(tenant);
    const base = `/v1/tenants/${tenant}/connections/salesforce/objects`;
    const objects = (await get(base, query).expect(200)).body as OrgObjectsView;
    const names = objects.objects.map((o) => o.name);
    expect(names).toEqual(expect.arrayContaining(['Account', 'Contact', 'Opportunity', 'Lead']));
    // Setup objects are not something an integration user reads as data.
    expect(names).not.toEqual(expect.arrayContaining(['User']));
    expect(names).not.toContain('PermissionSet');

    const fields = (await get(`${base}/Account/fields`, query).expect(200)).body as OrgFieldsView;
    expect(fields.object).toMatchObject({ name: 'Account', label: 'Account' });
    expect(fields.fields.map((f) => f.name)).toEqual(expect.arrayContaining(['Name', 'Industry']));
    expect(fields.fields.find((f) => f.name === 'Industry')).toMatchObject({ permissionable: true });
  });

  it('says clearly what is wrong: unknown object, bad name, no credentials, another tenant’s secret, unknown tenant', async () => {
    const tenant = uniqueTenant('pick');
    const { query } = await signedIn(tenant);
    const base = `/v1/tenants/${tenant}/connections/salesforce/objects`;

    const unknown = await get(`${base}/Nope__c/fields`, query).expect(404);
    expect(unknown.body).toMatchObject({ code: 'not-found', detail: expect.stringContaining('Nope__c') });
    const setupObject = await get(`${base}/PermissionSet/fields`, query).expect(404);
    expect(setupObject.body.code).toBe('not-found');

    const badName = await get(`${base}/1bad/fields`, query).expect(400);
    expect(badName.body.errors).toEqual([expect.objectContaining({ field: 'path.object' })]);

    const noCredentials = await get(`/v1/tenants/${uniqueTenant('none')}/connections/salesforce/objects`).expect(409);
    expect(noCredentials.body).toMatchObject({ code: 'no-admin-credentials' });

    const otherTenant = await get(`/v1/tenants/${uniqueTenant('other')}/connections/salesforce/objects`, query).expect(
      422,
    );
    expect(otherTenant.body).toMatchObject({ code: 'secret-ref-unusable' });
    expect(otherTenant.body.errors).toEqual([expect.objectContaining({ field: 'query.secretRef' })]);

    const urlMissing = await get(base, { secretRef: query.secretRef }).expect(422);
    expect(urlMissing.body.errors).toEqual([expect.objectContaining({ field: 'query.loginUrl' })]);

    const nowhere = await get(base, { ...query, loginUrl: 'http://127.0.0.1:1', instanceUrl: 'http://127.0.0.1:1' });
    expect(nowhere.status).toBe(409);
    expect(nowhere.body).toMatchObject({ code: 'salesforce-unreachable' });

    // A key bound to acme sees no other tenant.
    await get(base, query, stack.keys.acmeAdmin).expect(404);
  });

  it('refuses an enable with nothing to read with a plain 422, and stores nothing', async () => {
    const tenant = uniqueTenant('empty');
    const { org } = await signedIn(tenant);
    const path = `/v1/tenants/${tenant}/connections/salesforce/enable`;
    const filesBefore = storedFiles();
    const response = await request(stack.app)
      .post(path)
      .set('Authorization', `Bearer ${stack.keys.admin}`)
      .send({ loginUrl: org.loginUrl, adminCredentials: { accessToken: org.accessToken } })
      .expect(422);
    expect(response.body).toMatchObject({
      code: 'empty-configuration',
      detail: 'Choose at least one object and field for the agent to read, then try again.',
    });
    expect(storedFiles()).toEqual(filesBefore);
    const connection = (await get(`/v1/tenants/${tenant}/connections/salesforce`).expect(200)).body as ConnectionView;
    expect(connection.status).toBe('disabled');
    expect(connection.updatedAt).toBeUndefined();
  });

  it('reads with the connection’s own credentials once enabled, and shows the details as Setup lists them', async () => {
    const tenant = uniqueTenant('pick');
    const org = await stack.emulator.control.createOrg({ key: tenant });
    await request(stack.app)
      .post(`/v1/tenants/${tenant}/connections/salesforce/enable`)
      .set('Authorization', `Bearer ${stack.keys.admin}`)
      .send({
        loginUrl: org.loginUrl,
        instanceUrl: org.instanceUrl,
        adminCredentials: { accessToken: org.accessToken },
        agentConfiguration: AGENT_CONFIGURATION,
      })
      .expect(202);
    const connection = await waitForConnection(
      async () => (await get(`/v1/tenants/${tenant}/connections/salesforce`)).body as ConnectionView,
      (c) => c.status === 'enabled',
    );
    const details = connection.details!;
    expect(details.consumerKey).toBeTruthy();
    expect(details.permissionSetLabel).toMatch(/permission set$/);
    expect(details.integrationUserName).toMatch(/integration user$/);
    expect(details.setupLinks.integrationUser).toContain(
      `/lightning/setup/ManageUsers/page?address=${encodeURIComponent(`/${details.integrationUserId}`)}`,
    );
    expect(details.setupLinks.permissionSet).toContain(
      `/lightning/setup/PermSets/page?address=%2F${details.permissionSetId}`,
    );
    expect(connection.updatedAt).toBeDefined();
    // The page polls conditionally: an unchanged connection answers 304 to its ETag, with no body.
    const connectionPath = `/v1/tenants/${tenant}/connections/salesforce`;
    const etag = (await get(connectionPath).expect(200)).headers.etag as string;
    expect(etag).toBeTruthy();
    const unchanged = await request(stack.app)
      .get(connectionPath)
      .set('Authorization', `Bearer ${stack.keys.read}`)
      .set('If-None-Match', etag)
      .expect(304);
    expect(unchanged.text).toBeFalsy();
    const objects = (await get(`/v1/tenants/${tenant}/connections/salesforce/objects`).expect(200))
      .body as OrgObjectsView;
    expect(objects.objects.map((o) => o.name)).toContain('Account');
  });
});
