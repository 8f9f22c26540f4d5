/** Seed content of a new org: Organization, licenses, profiles, admin user, a few data records. */
import type { World } from './state';
import {
  ADMIN_PERMISSIONS,
  ADMIN_PERMISSIONS_OFF_BY_DEFAULT,
  Org,
  tablesFromJson,
  tablesToJson,
  token,
  newAdminPassword,
  type AdminPermission,
  type ApiAccessControl,
  type OrgSettings,
  type Rec,
} from './state';
import type { CustomFieldSpec, CustomObjectSpec } from './schema';

export interface CreateOrgInput {
  key?: string;
  name?: string;
  integrationLicenses?: number;
  allowConnectedAppCreation?: boolean;
  apiAccessControl?: ApiAccessControl;
  apiDailyLimit?: number;
  propagationDelayMs?: number;
  customObjects?: CustomObjectSpec[];
  customFields?: Record<string, CustomFieldSpec[]>;
  adminPermissions?: Partial<Record<AdminPermission, boolean>>;
}

export const INTEGRATION_LICENSE = 'Salesforce Integration';
export const INTEGRATION_PROFILE = 'Minimum Access - API Only Integrations';
export const INTEGRATION_PSL = 'SalesforceAPIIntegrationPsl';

export function createOrg(world: World, input: CreateOrgInput): Org {
  let key = input.key ?? `org${world.orgs.size + 1}`;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(key)) throw new Error('org key must match [A-Za-z0-9_-]{1,64}');
  if (world.orgs.has(key)) {
    if (input.key) throw new Error(`org '${key}' already exists`);
    let i = world.orgs.size + 1;
    while (world.orgs.has(`org${i}`)) i++;
    key = `org${i}`;
  }
  const adminPermissions = Object.fromEntries(
    ADMIN_PERMISSIONS.map((p) => [p, !ADMIN_PERMISSIONS_OFF_BY_DEFAULT.includes(p)]),
  ) as Record<AdminPermission, boolean>;
  for (const [p, v] of Object.entries(input.adminPermissions ?? {})) {
    if (!(ADMIN_PERMISSIONS as readonly string[]).includes(p)) throw new Error(`unknown admin permission ${p}`);
    adminPermissions[p as AdminPermission] = Boolean(v);
  }
  const settings: OrgSettings = {
    allowConnectedAppCreation: input.allowConnectedAppCreation ?? false,
    apiAccessControl: input.apiAccessControl ?? 'off',
    apiDailyLimit: input.apiDailyLimit ?? 100000,
    integrationLicenses: input.integrationLicenses ?? 5,
    adminPermissions,
    ...(input.propagationDelayMs !== undefined ? { propagationDelayMs: input.propagationDelayMs } : {}),
  };
  const org = new Org(key, world.ids.next('00D'), settings, {
    name: input.name ?? `Emulated Org ${key}`,
    customObjects: input.customObjects ?? [],
    customFields: input.customFields ?? {},
  });
  org.createdAt = world.clock.iso();
  seedOrg(world, org);
  org.seed = tablesToJson(org.tables);
  for (const t of org.tables.values()) for (const id of t.keys()) org.seedIds.add(id);
  org.adminPassword = newAdminPassword();
  org.refreshToken = `5Aep861${token(80)}`;
  world.refreshTokens.set(org.refreshToken, { orgKey: org.key, userId: org.adminUserId });
  org.journal = [];
  world.orgs.set(org.key, org);
  return org;
}

/** Restores the seed records; metadata, deployments, cursors and non-admin sessions are dropped. */
export function resetOrg(world: World, org: Org): void {
  org.tables = tablesFromJson(org.seed);
  org.meta.clear();
  org.deploys.clear();
  org.cursors.clear();
  org.journal = [];
  org.apiUsage.reset();
  for (const [t, s] of world.sessions)
    if (s.orgKey === org.key && s.userId !== org.adminUserId) world.sessions.delete(t);
}

function audit(id: string, by: string, t: string): Rec {
  return { Id: id, CreatedDate: t, CreatedById: by, LastModifiedDate: t, LastModifiedById: by, SystemModstamp: t };
}

function seedOrg(world: World, org: Org): void {
  const ids = world.ids;
  const adminId = ids.next('005');
  const now = world.clock.iso();
  const a = (id: string): Rec => audit(id, adminId, now);
  const ins = (obj: string, rec: Rec): string => {
    org.insert(obj, rec);
    return rec.Id as string;
  };

  ins('Organization', {
    ...a(org.id),
    Name: org.name,
    OrganizationType: 'Enterprise Edition',
    InstanceName: 'EMU1',
    IsSandbox: false,
    NamespacePrefix: null,
    Country: 'US',
    LanguageLocaleKey: 'en_US',
    DefaultLocaleSidKey: 'en_US',
    TimeZoneSidKey: 'America/Los_Angeles',
  });

  const license = (name: string, defKey: string, total: number): string =>
    ins('UserLicense', {
      ...a(ids.next('100')),
      Name: name,
      MasterLabel: name,
      LicenseDefinitionKey: defKey,
      Status: 'Active',
      TotalLicenses: total,
      UsedLicenses: 0,
      UsedLicensesLastUpdated: now,
    });
  const sfLicense = license('Salesforce', 'SFDC', 10);
  const intLicense = license(INTEGRATION_LICENSE, 'SFDC_INTEGRATION', org.settings.integrationLicenses);

  const allPerms = (v: boolean): Rec => ({
    PermissionsApiEnabled: v,
    PermissionsViewSetup: v,
    PermissionsModifyAllData: v,
    PermissionsViewAllData: v,
    PermissionsManageUsers: v,
    PermissionsCustomizeApplication: v,
    PermissionsManageProfilesPermissionsets: v,
    PermissionsAssignPermissionSets: v,
    PermissionsModifyMetadata: v,
    PermissionsApiUserOnly: false,
    PermissionsTransactionSecurityExempt: false,
    PermissionsUseAnyApiClient: false,
  });
  const profile = (name: string, lic: string, userType: string, perms: Rec): string => {
    const pid = ins('Profile', {
      ...a(ids.next('00e')),
      Name: name,
      UserLicenseId: lic,
      UserType: userType,
      Description: null,
      ...perms,
    });
    // Every profile owns a permission set (IsOwnedByProfile = true), as in real orgs.
    ins('PermissionSet', {
      ...a(ids.next('0PS')),
      Name: `X${pid.slice(0, 15)}`,
      Label: pid.slice(0, 15),
      Description: null,
      LicenseId: lic,
      HasActivationRequired: false,
      IsOwnedByProfile: true,
      ProfileId: pid,
      IsCustom: false,
      NamespacePrefix: null,
      Type: 'Profile',
      ...perms,
    });
    return pid;
  };
  const adminProfile = profile('System Administrator', sfLicense, 'Standard', allPerms(true));
  profile('Standard User', sfLicense, 'Standard', { ...allPerms(false), PermissionsApiEnabled: true });
  profile(INTEGRATION_PROFILE, intLicense, 'Standard', {
    ...allPerms(false),
    PermissionsApiEnabled: true,
    PermissionsApiUserOnly: true,
  });

  ins('PermissionSetLicense', {
    ...a(ids.next('0PL')),
    DeveloperName: INTEGRATION_PSL,
    MasterLabel: 'Salesforce API Integration',
    PermissionSetLicenseKey: 'SalesforceAPIIntegrationPsl',
    Status: 'Active',
    TotalLicenses: org.settings.integrationLicenses,
    UsedLicenses: 0,
    ExpirationDate: null,
  });

  let username = `admin@${org.key.toLowerCase()}.emulator.example`;
  for (let i = 2; world.findUsername(username); i++) username = `admin${i}@${org.key.toLowerCase()}.emulator.example`;
  ins('User', {
    ...a(adminId),
    Username: username,
    LastName: 'Admin',
    FirstName: 'Org',
    Name: 'Org Admin',
    CompanyName: org.name,
    Title: 'Administrator',
    Department: null,
    Alias: 'oadmin',
    Email: username,
    Phone: null,
    CommunityNickname: 'oadmin',
    IsActive: true,
    ProfileId: adminProfile,
    UserType: 'Standard',
    TimeZoneSidKey: 'America/Los_Angeles',
    LocaleSidKey: 'en_US',
    LanguageLocaleKey: 'en_US',
    EmailEncodingKey: 'UTF-8',
    FederationIdentifier: null,
    LastLoginDate: now,
  });
  org.adminUserId = adminId;
  org.adminUsername = username;
  const ownedPs = [...org.rows('PermissionSet')].find((p) => p.ProfileId === adminProfile)!;
  ins('PermissionSetAssignment', {
    ...a(ids.next('0Pa')),
    AssigneeId: adminId,
    PermissionSetId: ownedPs.Id,
    PermissionSetGroupId: null,
    IsActive: true,
    ExpirationDate: null,
  });

  const accounts = [
    ['Acme Corporation', 'Customer - Direct', 'Manufacturing', 'San Francisco', 'USA'],
    ['Globex Inc.', 'Prospect', 'Technology', 'Berlin', 'Germany'],
    ['Initech', 'Customer - Channel', 'Banking', 'Austin', 'USA'],
  ].map(([Name, Type, Industry, BillingCity, BillingCountry], i) =>
    ins('Account', {
      ...a(ids.next('001')),
      IsDeleted: false,
      Name,
      Type,
      Industry,
      AnnualRevenue: 1_000_000 * (i + 1),
      NumberOfEmployees: 100 * (i + 1),
      Phone: `+1 415 555 01${i}0`,
      Website: `https://www.example${i}.com`,
      BillingCity,
      BillingCountry,
      Description: null,
      ParentId: null,
      OwnerId: adminId,
    }),
  );
  [
    ['Ada', 'Lovelace', 0],
    ['Alan', 'Turing', 1],
    ['Grace', 'Hopper', 2],
  ].forEach(([FirstName, LastName, i]) =>
    ins('Contact', {
      ...a(ids.next('003')),
      IsDeleted: false,
      FirstName,
      LastName,
      Name: `${String(FirstName)} ${String(LastName)}`,
      AccountId: accounts[i as number],
      Email: `${String(FirstName).toLowerCase()}@example.com`,
      Phone: null,
      Title: 'VP Engineering',
      Department: null,
      MailingCity: null,
      OwnerId: adminId,
    }),
  );
  [
    ['Acme - 200 Widgets', 0, 'Prospecting', 50000],
    ['Globex - Platform Deal', 1, 'Negotiation/Review', 120000],
  ].forEach(([Name, i, StageName, Amount]) =>
    ins('Opportunity', {
      ...a(ids.next('006')),
      IsDeleted: false,
      Name,
      AccountId: accounts[i as number],
      StageName,
      CloseDate: '2026-12-31',
      Amount,
      Probability: 20,
      Type: 'New Customer',
      LeadSource: 'Web',
      Description: null,
      IsClosed: false,
      IsWon: false,
      ExpectedRevenue: (Amount as number) * 0.2,
      OwnerId: adminId,
    }),
  );
  [
    ['Linus', 'Torvalds', 'Kernel Ltd'],
    ['Margaret', 'Hamilton', 'Apollo Systems'],
  ].forEach(([FirstName, LastName, Company]) =>
    ins('Lead', {
      ...a(ids.next('00Q')),
      IsDeleted: false,
      FirstName,
      LastName,
      Name: `${FirstName} ${LastName}`,
      Company,
      Email: null,
      Phone: null,
      Status: 'Open - Not Contacted',
      Industry: null,
      LeadSource: 'Web',
      IsConverted: false,
      OwnerId: adminId,
    }),
  );
}
