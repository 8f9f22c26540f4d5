/** SOAP plumbing of the Metadata API: envelopes in and out, faults, XML (de)serialisation. */
import { XMLParser } from 'fast-xml-parser';
import { str } from '../ids';
import type { Rec } from '../state';

export const MD_NS = 'http://soap.sforce.com/2006/04/metadata';

export class SoapFault extends Error {
  constructor(
    public readonly faultcode: string,
    message: string,
  ) {
    super(message);
  }
}

export const sessionFault = (): SoapFault =>
  new SoapFault(
    'sf:INVALID_SESSION_ID',
    'INVALID_SESSION_ID: Invalid Session ID found in SessionHeader: Illegal Session. Session not found, missing session hash',
  );

// ------------------------------------------------------------------ XML helpers

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

export function toXml(name: string, value: unknown): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => toXml(name, v)).join('');
  if (value === null) return `<${name} xsi:nil="true"/>`;
  if (typeof value === 'object') {
    const { ['@type']: xsiType, ...rest } = value as Rec;
    const attrs = typeof xsiType === 'string' ? ` xsi:type="${esc(xsiType)}"` : '';
    const inner = Object.entries(rest)
      .map(([k, v]) => toXml(k, v))
      .join('');
    return `<${name}${attrs}>${inner}</${name}>`;
  }
  return `<${name}>${esc(str(value))}</${name}>`;
}

const ENVELOPE_OPEN =
  '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ' +
  `xmlns="${MD_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`;

export function soapResponse(method: string, result: unknown, limit?: { current: number; limit: number }): string {
  const header = limit
    ? `<soapenv:Header><LimitInfoHeader><limitInfo><current>${limit.current}</current><limit>${limit.limit}</limit><type>API REQUESTS</type></limitInfo></LimitInfoHeader></soapenv:Header>`
    : '';
  return `${ENVELOPE_OPEN}${header}<soapenv:Body><${method}Response>${toXml('result', result)}</${method}Response></soapenv:Body></soapenv:Envelope>`;
}

export function soapFault(f: SoapFault): string {
  const code = f.faultcode.replace(/^[a-z]+:/, '');
  const detail = f.faultcode.startsWith('sf:')
    ? `<detail><sf:UnexpectedErrorFault xmlns:sf="${MD_NS}" xsi:type="sf:UnexpectedErrorFault"><sf:exceptionCode>${esc(code)}</sf:exceptionCode><sf:exceptionMessage>${esc(f.message)}</sf:exceptionMessage></sf:UnexpectedErrorFault></detail>`
    : '';
  return `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="${MD_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>${esc(f.faultcode)}</faultcode><faultstring>${esc(f.message)}</faultstring>${detail}</soapenv:Fault></soapenv:Body></soapenv:Envelope>`;
}

/** Parses SOAP envelopes and the XML files of a deploy. */
export const xmlParser = new XMLParser({
  ignoreAttributes: false,
  removeNSPrefix: true,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
});

export interface SoapCall {
  method: string;
  sessionId?: string;
  args: Rec;
}

/** Parses a SOAP envelope; malformed input → soapenv:Client fault. */
export function parseEnvelope(raw: string): SoapCall {
  let doc: Rec;
  try {
    doc = xmlParser.parse(raw, true) as Rec;
  } catch (e) {
    throw new SoapFault(
      'soapenv:Client',
      `Bad envelope: ${e instanceof Error ? e.message.split('\n')[0] : 'unparseable XML'}`,
    );
  }
  const env = doc.Envelope as Rec | undefined;
  const body = env && typeof env === 'object' ? (env.Body as Rec | undefined) : undefined;
  if (!body || typeof body !== 'object') {
    throw new SoapFault('soapenv:Client', 'Bad envelope: no SOAP Envelope/Body element');
  }
  const ops = Object.keys(body).filter((k) => !k.startsWith('@_'));
  if (ops.length !== 1)
    throw new SoapFault('soapenv:Client', 'Bad envelope: the Body must contain exactly one operation');
  const method = ops[0]!;
  const args = body[method];
  const header = env!.Header as Rec | undefined;
  const sh = header && typeof header === 'object' ? (header.SessionHeader as Rec | undefined) : undefined;
  const sessionId = sh && typeof sh === 'object' && typeof sh.sessionId === 'string' ? sh.sessionId : undefined;
  return { method, ...(sessionId ? { sessionId } : {}), args: args && typeof args === 'object' ? (args as Rec) : {} };
}

export const asArray = <T>(v: T | T[] | undefined): T[] =>
  v === undefined || v === '' ? [] : Array.isArray(v) ? v : [v];
