/** The shapes of Sign in with Salesforce (api/sign-in.ts): the start, the callback's query and who is signed in. */
import { z } from 'zod';
import { orgUrl, tenantIdSchema } from './schemas';

/** `<tenantId>.<43 base64url characters>`: the tenant it is bound to, then 256 random bits. */
export const SIGN_IN_STATE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.[A-Za-z0-9_-]{43}$/;

export const signInPathSchema = z.strictObject({ tenantId: tenantIdSchema });

export const signInBodySchema = z
  .strictObject({
    loginUrl: orgUrl.describe(
      'Where the admin signs in: https://login.salesforce.com, https://test.salesforce.com (sandboxes) or the ' +
        'org’s My Domain; http only on localhost (the emulator).',
    ),
  })
  .meta({
    id: 'SignInRequest',
    description: 'Starts Sign in with Salesforce (OAuth 2.0 web server flow with PKCE) for the tenant.',
    examples: [{ loginUrl: 'https://login.salesforce.com' }],
  });

export const signInStartedSchema = z
  .object({
    authorizeUrl: z
      .string()
      .describe(
        'Salesforce’s sign-in page, for the admin’s browser: open it in the same tab (a redirect, not a fetch).',
      ),
    expiresAt: z.string().describe('The sign-in must be completed before this time; start again after.'),
  })
  .meta({ id: 'SignInStarted' });

export const signInStatusSchema = z
  .object({
    signedIn: z.boolean(),
    username: z.string().optional().describe('The Salesforce username of the admin who signed in.'),
    displayName: z.string().optional(),
    orgId: z.string().optional(),
    userId: z.string().optional(),
    loginUrl: z.string().optional(),
    instanceUrl: z.string().optional(),
    signedInAt: z.string().optional(),
    adminCredentials: z
      .object({ secretRef: z.string() })
      .optional()
      .describe('Where the tokens are stored: give it as adminCredentials to enable, reconnect or disable.'),
  })
  .meta({
    id: 'SignInStatus',
    description: 'Who last signed in with Salesforce for the tenant, to which org; never the tokens.',
  });

export const signInCallbackQuerySchema = z.strictObject({
  state: z
    .string()
    .max(200)
    .regex(SIGN_IN_STATE_PATTERN, 'must be the state of a sign-in this service started')
    .describe('The state the service gave Salesforce, sent back as is.'),
  // The lengths keep the whole URL under Node's 16 KiB header limit even with every character percent-encoded.
  code: z
    .string()
    .min(1)
    .max(1024)
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII')
    .optional()
    .describe('The authorization code, when the admin allowed access.'),
  error: z
    .string()
    .max(100)
    .regex(/^[A-Za-z0-9_.-]+$/, 'must be an OAuth error code')
    .optional()
    .describe('Salesforce’s error code, e.g. access_denied when the admin denied access.'),
  error_description: z.string().max(256).optional(),
  iss: z.string().max(256).optional().describe('The issuer (RFC 9207), when Salesforce sends it; ignored.'),
  sfdc_community_url: z.string().max(256).optional(),
  sfdc_community_id: z.string().max(64).optional(),
});

export type SignInStarted = z.infer<typeof signInStartedSchema>;
export type SignInStatus = z.infer<typeof signInStatusSchema>;
export type SignInCallbackQuery = z.infer<typeof signInCallbackQuerySchema>;
