/** sObject schema of an emulated org: standard setup/data objects plus per-org custom objects and fields. */

export type FieldType =
  | 'id'
  | 'string'
  | 'textarea'
  | 'email'
  | 'phone'
  | 'url'
  | 'boolean'
  | 'reference'
  | 'picklist'
  | 'datetime'
  | 'date'
  | 'double'
  | 'currency'
  | 'percent'
  | 'int';

export interface FieldDef {
  name: string;
  type: FieldType;
  label: string;
  length: number;
  nillable: boolean;
  createable: boolean;
  updateable: boolean;
  permissionable: boolean;
  calculated: boolean;
  custom: boolean;
  /** Required on insert (nillable=false, createable, no default). */
  required: boolean;
  defaultedOnCreate: boolean;
  referenceTo: string[];
  relationshipName: string | null;
  picklistValues?: string[];
  restrictedPicklist: boolean;
}

export interface ObjectDef {
  name: string;
  label: string;
  labelPlural: string;
  keyPrefix: string | null;
  custom: boolean;
  createable: boolean;
  updateable: boolean;
  deletable: boolean;
  queryable: boolean;
  /** Setup object (mixed-DML rules, not grantable through ObjectPermissions). */
  setup: boolean;
  /** Can be granted through ObjectPermissions / FieldPermissions. */
  grantable: boolean;
  fields: FieldDef[];
  fieldMap: Map<string, FieldDef>;
  relMap: Map<string, FieldDef>;
}

export interface CustomFieldSpec {
  name: string;
  type: string;
  nillable?: boolean;
  permissionable?: boolean;
  label?: string;
  length?: number;
  calculated?: boolean;
  referenceTo?: string;
  picklistValues?: string[];
}
export interface CustomObjectSpec {
  name: string;
  label?: string;
  fields: CustomFieldSpec[];
}

type FOpts = Partial<Omit<FieldDef, 'name' | 'type'>> & { ref?: string | string[]; rel?: string; values?: string[] };

function humanize(name: string): string {
  return name
    .replace(/__c$/, '')
    .replace(/Id$/, '')
    .replace(/_/g, ' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .trim();
}

const DEFAULT_LEN: Partial<Record<FieldType, number>> = {
  id: 18,
  string: 255,
  textarea: 32000,
  email: 80,
  phone: 40,
  url: 255,
  reference: 18,
  picklist: 255,
};

function f(name: string, type: FieldType, o: FOpts = {}): FieldDef {
  const nillable = o.nillable ?? true;
  const createable = o.createable ?? true;
  const updateable = o.updateable ?? createable;
  const calculated = o.calculated ?? false;
  const defaultedOnCreate = o.defaultedOnCreate ?? false;
  const referenceTo = o.ref === undefined ? [] : Array.isArray(o.ref) ? o.ref : [o.ref];
  const required = o.required ?? (!nillable && createable && !defaultedOnCreate && type !== 'boolean');
  return {
    name,
    type,
    label: o.label ?? humanize(name),
    length: o.length ?? DEFAULT_LEN[type] ?? 0,
    nillable,
    createable,
    updateable,
    // Fields that cannot carry FLS: required fields, ids, audit/system fields (describe permissionable=false).
    permissionable: o.permissionable ?? (nillable && createable && name !== 'OwnerId'),
    calculated,
    custom: o.custom ?? name.endsWith('__c'),
    required,
    defaultedOnCreate,
    referenceTo,
    relationshipName: o.rel ?? (type === 'reference' ? name.replace(/Id$/, '').replace(/__c$/, '__r') : null),
    ...(o.values ? { picklistValues: o.values } : {}),
    restrictedPicklist: o.restrictedPicklist ?? false,
  };
}

const ro = { createable: false, updateable: false, permissionable: false } as const;
const AUDIT: FieldDef[] = [
  f('CreatedDate', 'datetime', { ...ro, nillable: false, defaultedOnCreate: true }),
  f('CreatedById', 'reference', { ...ro, nillable: false, ref: 'User', rel: 'CreatedBy', defaultedOnCreate: true }),
  f('LastModifiedDate', 'datetime', { ...ro, nillable: false, defaultedOnCreate: true }),
  f('LastModifiedById', 'reference', {
    ...ro,
    nillable: false,
    ref: 'User',
    rel: 'LastModifiedBy',
    defaultedOnCreate: true,
  }),
  f('SystemModstamp', 'datetime', { ...ro, nillable: false, defaultedOnCreate: true }),
];
const ID = f('Id', 'id', { ...ro, nillable: false, defaultedOnCreate: true, label: 'Record ID' });
const IS_DELETED = f('IsDeleted', 'boolean', { ...ro, nillable: false, defaultedOnCreate: true });
const OWNER = f('OwnerId', 'reference', {
  nillable: false,
  defaultedOnCreate: true,
  ref: 'User',
  rel: 'Owner',
  permissionable: false,
});

export const TIME_ZONES: ReadonlySet<string> = new Set(
  (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf('timeZone').concat(['GMT']),
);
export const LOCALES = [
  'en_US',
  'en_GB',
  'en_CA',
  'en_AU',
  'en_IE',
  'en_IN',
  'en_NZ',
  'fr_FR',
  'fr_CA',
  'fr_BE',
  'fr_CH',
  'de_DE',
  'de_AT',
  'de_CH',
  'es_ES',
  'es_MX',
  'it_IT',
  'ja_JP',
  'ko_KR',
  'nl_NL',
  'nl_BE',
  'pt_BR',
  'pt_PT',
  'sv_SE',
  'da_DK',
  'fi_FI',
  'no_NO',
  'pl_PL',
  'zh_CN',
  'zh_TW',
];
export const LANGUAGES = [
  'en_US',
  'en_GB',
  'de',
  'fr',
  'es',
  'es_MX',
  'it',
  'ja',
  'ko',
  'nl_NL',
  'pt_BR',
  'sv',
  'da',
  'fi',
  'no',
  'ru',
  'zh_CN',
  'zh_TW',
  'th',
];
export const ENCODINGS = [
  'UTF-8',
  'ISO-8859-1',
  'Shift_JIS',
  'ISO-2022-JP',
  'EUC-JP',
  'ks_c_5601-1987',
  'Big5',
  'GB2312',
  'Big5-HKSCS',
  'x-SJIS_0213',
];

const PERM_FIELDS = [
  'PermissionsApiEnabled',
  'PermissionsViewSetup',
  'PermissionsModifyAllData',
  'PermissionsViewAllData',
  'PermissionsManageUsers',
  'PermissionsCustomizeApplication',
  'PermissionsManageProfilesPermissionsets',
  'PermissionsAssignPermissionSets',
  'PermissionsModifyMetadata',
  'PermissionsApiUserOnly',
  // "Exempt from Transaction Security" (help "Exempt Users from Transaction Security Policies",
  // enhanced_transaction_security_exempt). Salesforce shows it in orgs with Shield or Event Monitoring; the emulator
  // always has it.
  'PermissionsTransactionSecurityExempt',
];

/**
 * "Use Any API Client": a user permission that, per third-party audit tools, exists only once Salesforce Support has
 * enabled API Access Control (querying it elsewhere fails with INVALID_FIELD); Salesforce's docs are silent on this.
 */
export const USE_ANY_API_CLIENT = 'PermissionsUseAnyApiClient';
/** The objects that carry user permission fields, and how each declares them. */
const PERM_FIELD_OPTS: Record<string, FOpts> = {
  Profile: { nillable: false },
  PermissionSet: { nillable: false, defaultedOnCreate: true },
  UserPermissionAccess: { ...ro, nillable: false },
};

type ObjOpts = Partial<Omit<ObjectDef, 'name' | 'fields' | 'fieldMap' | 'relMap'>>;

function obj(name: string, keyPrefix: string | null, fields: FieldDef[], o: ObjOpts = {}): ObjectDef {
  const all = [ID, ...fields, ...(o.setup === false || o.grantable ? [IS_DELETED] : []), ...AUDIT];
  const fieldMap = new Map<string, FieldDef>();
  const relMap = new Map<string, FieldDef>();
  for (const fd of all) {
    fieldMap.set(fd.name.toLowerCase(), fd);
    if (fd.type === 'reference' && fd.relationshipName) relMap.set(fd.relationshipName.toLowerCase(), fd);
  }
  return {
    name,
    label: o.label ?? humanize(name),
    labelPlural: o.labelPlural ?? `${o.label ?? humanize(name)}s`,
    keyPrefix,
    custom: o.custom ?? false,
    createable: o.createable ?? true,
    updateable: o.updateable ?? true,
    deletable: o.deletable ?? true,
    queryable: o.queryable ?? true,
    setup: o.setup ?? true,
    grantable: o.grantable ?? false,
    fields: all,
    fieldMap,
    relMap,
  };
}

const readOnly: ObjOpts = { createable: false, updateable: false, deletable: false };
const dataObj: ObjOpts = { setup: false, grantable: true };

/** Events a Transaction Security policy can watch (Object Reference, TransactionSecurityPolicy.EventName). */
const TXN_SECURITY_EVENTS = [
  'ApiEvent',
  'BulkApiResultEventStore',
  'ListViewEvent',
  'LoginEvent',
  'ReportEvent',
  'ApiAnomalyEventStore',
  'CredentialStuffingEventStore',
  'FileEvent',
  'GuestUserAnomalyEventStore',
  'PermissionSetEventStore',
  'ReportAnomalyEventStore',
  'SessionHijackingEventStore',
];

const ACCOUNT_TYPES = ['Prospect', 'Customer - Direct', 'Customer - Channel', 'Partner', 'Other'];
const INDUSTRIES = ['Agriculture', 'Banking', 'Technology', 'Energy', 'Healthcare', 'Retail', 'Manufacturing'];
const STAGES = [
  'Prospecting',
  'Qualification',
  'Needs Analysis',
  'Proposal/Price Quote',
  'Negotiation/Review',
  'Closed Won',
  'Closed Lost',
];
const LEAD_STATUS = ['Open - Not Contacted', 'Working - Contacted', 'Closed - Converted', 'Closed - Not Converted'];
const LEAD_SOURCES = ['Web', 'Phone Inquiry', 'Partner Referral', 'Purchased List', 'Other'];

function standardObjects(): ObjectDef[] {
  const r = { restrictedPicklist: true } as const;
  return [
    obj(
      'Organization',
      '00D',
      [
        f('Name', 'string', { createable: false, nillable: false, length: 80 }),
        f('OrganizationType', 'picklist', { createable: false }),
        f('InstanceName', 'string', { createable: false }),
        f('IsSandbox', 'boolean', { createable: false, nillable: false }),
        f('NamespacePrefix', 'string', { createable: false }),
        f('Country', 'string', { createable: false }),
        f('LanguageLocaleKey', 'picklist', { createable: false }),
        f('DefaultLocaleSidKey', 'picklist', { createable: false }),
        f('TimeZoneSidKey', 'picklist', { createable: false }),
      ],
      readOnly,
    ),
    obj(
      'User',
      '005',
      [
        f('Username', 'string', { nillable: false, length: 80 }),
        f('LastName', 'string', { nillable: false, length: 80 }),
        f('FirstName', 'string', { length: 40 }),
        f('Name', 'string', { ...ro, calculated: true, nillable: false, label: 'Full Name', length: 121 }),
        f('CompanyName', 'string', { length: 80 }),
        f('Title', 'string', { length: 80 }),
        f('Department', 'string', { length: 80 }),
        f('Alias', 'string', { nillable: false, length: 8 }),
        f('Email', 'email', { nillable: false, length: 128 }),
        f('Phone', 'phone'),
        f('CommunityNickname', 'string', { nillable: false, defaultedOnCreate: true, length: 40 }),
        f('IsActive', 'boolean', { nillable: false, defaultedOnCreate: true }),
        f('ProfileId', 'reference', { nillable: false, ref: 'Profile', rel: 'Profile' }),
        f('UserType', 'picklist', { ...ro, defaultedOnCreate: true }),
        f('TimeZoneSidKey', 'picklist', { nillable: false, ...r }),
        f('LocaleSidKey', 'picklist', { nillable: false, ...r, values: LOCALES }),
        f('LanguageLocaleKey', 'picklist', { nillable: false, ...r, values: LANGUAGES }),
        f('EmailEncodingKey', 'picklist', { nillable: false, ...r, values: ENCODINGS }),
        f('FederationIdentifier', 'string', { length: 512 }),
        f('LastLoginDate', 'datetime', ro),
      ],
      { deletable: false },
    ),
    obj(
      'Profile',
      '00e',
      [
        f('Name', 'string', { nillable: false, length: 255 }),
        f('UserLicenseId', 'reference', { nillable: false, ref: 'UserLicense', rel: 'UserLicense' }),
        f('UserType', 'picklist', ro),
        f('Description', 'string'),
        ...PERM_FIELDS.map((p) => f(p, 'boolean', { nillable: false })),
      ],
      readOnly,
    ),
    obj(
      'UserLicense',
      '100',
      [
        f('Name', 'string', { createable: false, nillable: false }),
        f('MasterLabel', 'string', { createable: false, nillable: false }),
        f('LicenseDefinitionKey', 'string', { createable: false, nillable: false }),
        f('Status', 'picklist', { createable: false }),
        f('TotalLicenses', 'int', { createable: false, nillable: false }),
        f('UsedLicenses', 'int', { createable: false, nillable: false }),
        f('UsedLicensesLastUpdated', 'datetime', { createable: false }),
      ],
      readOnly,
    ),
    obj(
      'PermissionSetLicense',
      '0PL',
      [
        f('DeveloperName', 'string', { createable: false, nillable: false, length: 80 }),
        f('MasterLabel', 'string', { createable: false, nillable: false, length: 80 }),
        f('PermissionSetLicenseKey', 'string', { createable: false }),
        f('Status', 'picklist', { createable: false }),
        f('TotalLicenses', 'int', { createable: false, nillable: false }),
        f('UsedLicenses', 'int', { createable: false, nillable: false }),
        f('ExpirationDate', 'date', { createable: false }),
      ],
      readOnly,
    ),
    obj(
      'PermissionSetLicenseAssign',
      '2LA',
      [
        f('AssigneeId', 'reference', { nillable: false, ref: 'User', rel: 'Assignee', updateable: false }),
        f('PermissionSetLicenseId', 'reference', {
          nillable: false,
          ref: 'PermissionSetLicense',
          rel: 'PermissionSetLicense',
          updateable: false,
        }),
      ],
      { updateable: false },
    ),
    obj('PermissionSet', '0PS', [
      f('Name', 'string', { nillable: false, length: 80 }),
      f('Label', 'string', { nillable: false, length: 80 }),
      f('Description', 'textarea', { length: 255 }),
      f('LicenseId', 'reference', { ref: ['UserLicense', 'PermissionSetLicense'], rel: 'License' }),
      f('HasActivationRequired', 'boolean', { nillable: false, defaultedOnCreate: true }),
      f('IsOwnedByProfile', 'boolean', { ...ro, nillable: false, defaultedOnCreate: true }),
      f('ProfileId', 'reference', { ...ro, ref: 'Profile', rel: 'Profile' }),
      f('IsCustom', 'boolean', { ...ro, nillable: false, defaultedOnCreate: true }),
      f('NamespacePrefix', 'string', ro),
      f('Type', 'picklist', { ...ro, defaultedOnCreate: true }),
      ...PERM_FIELDS.map((p) => f(p, 'boolean', { nillable: false, defaultedOnCreate: true })),
    ]),
    obj('ObjectPermissions', '110', [
      f('ParentId', 'reference', { nillable: false, ref: 'PermissionSet', rel: 'Parent', updateable: false }),
      f('SobjectType', 'picklist', { nillable: false, updateable: false, restrictedPicklist: true }),
      ...[
        'PermissionsRead',
        'PermissionsCreate',
        'PermissionsEdit',
        'PermissionsDelete',
        'PermissionsViewAllRecords',
        'PermissionsModifyAllRecords',
        'PermissionsViewAllFields',
      ].map((p) => f(p, 'boolean', { nillable: false, defaultedOnCreate: true })),
    ]),
    obj('FieldPermissions', '01k', [
      f('ParentId', 'reference', { nillable: false, ref: 'PermissionSet', rel: 'Parent', updateable: false }),
      f('SobjectType', 'picklist', { nillable: false, updateable: false, restrictedPicklist: true }),
      f('Field', 'picklist', { nillable: false, updateable: false, restrictedPicklist: true }),
      f('PermissionsRead', 'boolean', { nillable: false, defaultedOnCreate: true }),
      f('PermissionsEdit', 'boolean', { nillable: false, defaultedOnCreate: true }),
    ]),
    obj(
      'PermissionSetAssignment',
      '0Pa',
      [
        f('AssigneeId', 'reference', { nillable: false, ref: 'User', rel: 'Assignee', updateable: false }),
        f('PermissionSetId', 'reference', {
          nillable: false,
          ref: 'PermissionSet',
          rel: 'PermissionSet',
          updateable: false,
        }),
        f('PermissionSetGroupId', 'reference', { ref: 'PermissionSetGroup', updateable: false }),
        f('IsActive', 'boolean', { ...ro, nillable: false, defaultedOnCreate: true }),
        f('ExpirationDate', 'datetime', { updateable: false }),
      ],
      { updateable: false },
    ),
    obj(
      'SetupEntityAccess',
      '0J0',
      [
        f('ParentId', 'reference', { nillable: false, ref: 'PermissionSet', rel: 'Parent', updateable: false }),
        f('SetupEntityId', 'reference', {
          nillable: false,
          ref: ['ConnectedApplication', 'ExternalClientApplication'],
          rel: 'SetupEntity',
          updateable: false,
        }),
        f('SetupEntityType', 'picklist', { ...ro, defaultedOnCreate: true }),
      ],
      { updateable: false },
    ),
    obj(
      'ConnectedApplication',
      '0H4',
      [
        f('Name', 'string', { createable: false, nillable: false }),
        f('OptionsAllowAdminApprovedUsersOnly', 'boolean', { createable: false, nillable: false }),
        f('OptionsRefreshTokenValidityMetric', 'boolean', { createable: false, nillable: false }),
        f('StartUrl', 'url', { createable: false }),
        f('MobileStartUrl', 'url', { createable: false }),
      ],
      readOnly,
    ),
    // Id prefix of the ExternalClientApplication sObject is unconfirmed; 0xI chosen.
    obj(
      'ExternalClientApplication',
      '0xI',
      [
        f('DeveloperName', 'string', { createable: false, nillable: false, length: 80 }),
        f('MasterLabel', 'string', { createable: false, nillable: false, length: 80 }),
        f('DistributionState', 'picklist', { createable: false }),
      ],
      readOnly,
    ),
    // Object Reference, "TransactionSecurityPolicy" (API 42+; create, delete, query, retrieve, update, upsert). The
    // Id prefix is unconfirmed; 0NI chosen. State values Enabled/Disabled are those third-party audit queries use.
    obj('TransactionSecurityPolicy', '0NI', [
      f('DeveloperName', 'string', { nillable: false, length: 80, label: 'Name' }),
      f('MasterLabel', 'string', { nillable: false, length: 80, label: 'Name' }),
      f('Description', 'string', { length: 1000 }),
      f('EventName', 'picklist', { values: TXN_SECURITY_EVENTS }),
      f('EventType', 'picklist'),
      f('State', 'picklist', { nillable: false, restrictedPicklist: true, values: ['Enabled', 'Disabled'] }),
      f('Type', 'picklist', { label: 'Policy Type' }),
      f('ActionConfig', 'textarea', { nillable: false, length: 4000, label: 'Action Configuration' }),
      f('BlockMessage', 'string', { length: 1000 }),
      f('CustomEmailContent', 'string', { length: 1333 }),
      f('ExecutionUserId', 'reference', { ref: 'User', rel: 'ExecutionUser' }),
      f('ResourceName', 'string', { length: 100 }),
      f('NamespacePrefix', 'string', ro),
    ]),
    obj('UserPermissionAccess', null, [...PERM_FIELDS.map((p) => f(p, 'boolean', { ...ro, nillable: false }))], {
      ...readOnly,
    }),
    obj(
      'Account',
      '001',
      [
        f('Name', 'string', { nillable: false, length: 255, label: 'Account Name' }),
        f('Type', 'picklist', { values: ACCOUNT_TYPES }),
        f('Industry', 'picklist', { values: INDUSTRIES }),
        f('AnnualRevenue', 'currency'),
        f('NumberOfEmployees', 'int'),
        f('Phone', 'phone'),
        f('Website', 'url'),
        f('BillingCity', 'string', { length: 40 }),
        f('BillingCountry', 'string', { length: 80 }),
        f('Description', 'textarea'),
        f('ParentId', 'reference', { ref: 'Account', rel: 'Parent' }),
        OWNER,
      ],
      dataObj,
    ),
    obj(
      'Contact',
      '003',
      [
        f('FirstName', 'string', { length: 40 }),
        f('LastName', 'string', { nillable: false, length: 80 }),
        f('Name', 'string', { ...ro, calculated: true, nillable: false, label: 'Full Name', length: 121 }),
        f('AccountId', 'reference', { ref: 'Account', rel: 'Account' }),
        f('Email', 'email'),
        f('Phone', 'phone'),
        f('Title', 'string', { length: 128 }),
        f('Department', 'string', { length: 80 }),
        f('MailingCity', 'string', { length: 40 }),
        OWNER,
      ],
      dataObj,
    ),
    obj(
      'Opportunity',
      '006',
      [
        f('Name', 'string', { nillable: false, length: 120 }),
        f('AccountId', 'reference', { ref: 'Account', rel: 'Account' }),
        f('StageName', 'picklist', { nillable: false, values: STAGES }),
        f('CloseDate', 'date', { nillable: false }),
        f('Amount', 'currency'),
        f('Probability', 'percent'),
        f('Type', 'picklist', { values: ['New Customer', 'Existing Customer - Upgrade'] }),
        f('LeadSource', 'picklist', { values: LEAD_SOURCES }),
        f('Description', 'textarea'),
        f('IsClosed', 'boolean', { ...ro, nillable: false, calculated: false, defaultedOnCreate: true }),
        f('IsWon', 'boolean', { ...ro, nillable: false, defaultedOnCreate: true }),
        f('ExpectedRevenue', 'currency', { createable: false, updateable: false, calculated: true }),
        OWNER,
      ],
      dataObj,
    ),
    obj(
      'Lead',
      '00Q',
      [
        f('FirstName', 'string', { length: 40 }),
        f('LastName', 'string', { nillable: false, length: 80 }),
        f('Name', 'string', { ...ro, calculated: true, nillable: false, length: 121 }),
        f('Company', 'string', { nillable: false, length: 255 }),
        f('Email', 'email'),
        f('Phone', 'phone'),
        f('Status', 'picklist', { nillable: false, defaultedOnCreate: true, values: LEAD_STATUS }),
        f('Industry', 'picklist', { values: INDUSTRIES }),
        f('LeadSource', 'picklist', { values: LEAD_SOURCES }),
        f('IsConverted', 'boolean', { ...ro, nillable: false, defaultedOnCreate: true }),
        OWNER,
      ],
      dataObj,
    ),
  ];
}

const CUSTOM_TYPES: Record<string, FieldType> = {
  string: 'string',
  text: 'string',
  textarea: 'textarea',
  boolean: 'boolean',
  checkbox: 'boolean',
  double: 'double',
  number: 'double',
  int: 'int',
  currency: 'currency',
  percent: 'percent',
  date: 'date',
  datetime: 'datetime',
  email: 'email',
  phone: 'phone',
  url: 'url',
  picklist: 'picklist',
  reference: 'reference',
};

const CUSTOM_NAME = /^[A-Za-z](?!.*__.*__)[A-Za-z0-9_]*[A-Za-z0-9]__c$/;

function customField(spec: CustomFieldSpec): FieldDef {
  const type = CUSTOM_TYPES[spec.type.toLowerCase()];
  if (!type) throw new Error(`unsupported custom field type '${spec.type}' for ${spec.name}`);
  if (!CUSTOM_NAME.test(spec.name)) throw new Error(`custom field name must end with __c: ${spec.name}`);
  const calculated = spec.calculated ?? false;
  const nillable = spec.nillable ?? true;
  return f(spec.name, type, {
    nillable,
    createable: !calculated,
    calculated,
    custom: true,
    length: spec.length ?? DEFAULT_LEN[type] ?? 0,
    ...(spec.label ? { label: spec.label } : {}),
    ...(spec.referenceTo ? { ref: spec.referenceTo } : {}),
    ...(spec.picklistValues ? { values: spec.picklistValues } : {}),
    permissionable: spec.permissionable ?? nillable,
  });
}

export class Schema {
  readonly objects = new Map<string, ObjectDef>();
  readonly byPrefix = new Map<string, ObjectDef>();

  constructor(customObjects: CustomObjectSpec[] = [], customFields: Record<string, CustomFieldSpec[]> = {}) {
    for (const o of standardObjects()) this.add(o);
    customObjects.forEach((co, i) => {
      if (!CUSTOM_NAME.test(co.name)) throw new Error(`custom object name must end with __c: ${co.name}`);
      const prefix = `a${String(i).padStart(2, '0')}`;
      const fields = [
        f('Name', 'string', { nillable: false, length: 80, label: `${humanize(co.name)} Name` }),
        OWNER,
        ...co.fields.map(customField),
      ];
      this.add(obj(co.name, prefix, fields, { ...dataObj, custom: true, ...(co.label ? { label: co.label } : {}) }));
    });
    for (const [objName, fields] of Object.entries(customFields)) {
      const o = this.get(objName);
      if (!o) throw new Error(`customFields: unknown object ${objName}`);
      for (const spec of fields) {
        const fd = customField(spec);
        // Keep audit fields last.
        o.fields.splice(o.fields.length - AUDIT.length, 0, fd);
        o.fieldMap.set(fd.name.toLowerCase(), fd);
        if (fd.type === 'reference' && fd.relationshipName) o.relMap.set(fd.relationshipName.toLowerCase(), fd);
      }
    }
  }

  private add(o: ObjectDef): void {
    this.objects.set(o.name.toLowerCase(), o);
    if (o.keyPrefix) this.byPrefix.set(o.keyPrefix, o);
  }

  get(name: string): ObjectDef | undefined {
    return this.objects.get(name.toLowerCase());
  }

  objectOfId(id: string): ObjectDef | undefined {
    return this.byPrefix.get(id.slice(0, 3));
  }

  /** Adds or removes the Use Any API Client permission field, which exists only with API Access Control. */
  setApiAccessControl(on: boolean): void {
    for (const [objName, opts] of Object.entries(PERM_FIELD_OPTS)) {
      const o = this.get(objName)!;
      const key = USE_ANY_API_CLIENT.toLowerCase();
      const at = o.fields.findIndex((fd) => fd.name === USE_ANY_API_CLIENT);
      if (on && at < 0) {
        const fd = f(USE_ANY_API_CLIENT, 'boolean', opts);
        o.fields.splice(o.fields.length - AUDIT.length, 0, fd);
        o.fieldMap.set(key, fd);
      } else if (!on && at >= 0) {
        o.fields.splice(at, 1);
        o.fieldMap.delete(key);
      }
    }
  }
}

/**
 * What a user sees in a describe (Salesforce describes objects as the calling user can use them). Undefined members
 * mean no restriction (admins, users with View/Modify All Data, setup objects).
 */
export interface DescribeView {
  /** Fields the user can read; the others are left out. */
  readable?: ReadonlySet<string>;
  /** Permissionable fields the user can edit; the others are neither createable nor updateable. */
  editable?: ReadonlySet<string>;
  /** The user's object permissions. */
  access?: { create: boolean; edit: boolean; del: boolean };
}

export function describeField(fd: FieldDef, view: DescribeView = {}): Record<string, unknown> {
  const editable = !fd.permissionable || !view.editable || view.editable.has(fd.name);
  return {
    name: fd.name,
    label: fd.label,
    type: fd.type,
    length: fd.length,
    nillable: fd.nillable,
    createable: fd.createable && editable,
    updateable: fd.updateable && editable,
    permissionable: fd.permissionable,
    calculated: fd.calculated,
    custom: fd.custom,
    defaultedOnCreate: fd.defaultedOnCreate,
    filterable: true,
    sortable: fd.type !== 'textarea',
    idLookup: fd.name === 'Id' || fd.name === 'Username',
    nameField: fd.name === 'Name',
    referenceTo: fd.referenceTo,
    relationshipName: fd.relationshipName,
    restrictedPicklist: fd.restrictedPicklist,
    soapType:
      fd.type === 'boolean'
        ? 'xsd:boolean'
        : fd.type === 'int'
          ? 'xsd:int'
          : ['double', 'currency', 'percent'].includes(fd.type)
            ? 'xsd:double'
            : fd.type === 'date'
              ? 'xsd:date'
              : fd.type === 'datetime'
                ? 'xsd:dateTime'
                : fd.type === 'id' || fd.type === 'reference'
                  ? 'tns:ID'
                  : 'xsd:string',
    picklistValues: (fd.picklistValues ?? []).map((v) => ({ active: true, defaultValue: false, label: v, value: v })),
  };
}

export function describeObject(o: ObjectDef, version: string, view: DescribeView = {}): Record<string, unknown> {
  const { readable, access } = view;
  return {
    name: o.name,
    label: o.label,
    labelPlural: o.labelPlural,
    keyPrefix: o.keyPrefix,
    custom: o.custom,
    createable: o.createable && (access?.create ?? true),
    updateable: o.updateable && (access?.edit ?? true),
    deletable: o.deletable && (access?.del ?? true),
    queryable: o.queryable,
    retrieveable: true,
    searchable: !o.setup,
    triggerable: !o.setup,
    layoutable: !o.setup,
    fields: o.fields.filter((fd) => !readable || readable.has(fd.name)).map((fd) => describeField(fd, view)),
    urls: {
      sobject: `/services/data/v${version}/sobjects/${o.name}`,
      describe: `/services/data/v${version}/sobjects/${o.name}/describe`,
      rowTemplate: `/services/data/v${version}/sobjects/${o.name}/{ID}`,
    },
  };
}

export function globalEntry(o: ObjectDef, version: string, view: DescribeView = {}): Record<string, unknown> {
  const { fields: _f, ...rest } = describeObject(o, version, view);
  return rest;
}
