import type { Connection } from 'jsforce';

/** Quotes a value for a SOQL string literal (backslash and quote escaped, as SOQL requires). */
export function soqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export async function queryAll<T>(connection: Connection, soql: string): Promise<T[]> {
  const result = await connection.query<T & Record<string, unknown>>(soql, { autoFetch: true, maxFetch: 100000 });
  return result.records;
}

export interface BatchSubrequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  richInput?: unknown;
}

export interface BatchSubresponse {
  statusCode: number;
  result: unknown;
}

/**
 * Sends up to 25 independent subrequests as one Composite Batch call: Salesforce bills it as one API request, which
 * keeps the call count of an enable flat however many objects the agent reads.
 */
export async function compositeBatch(connection: Connection, requests: BatchSubrequest[]): Promise<BatchSubresponse[]> {
  const results: BatchSubresponse[] = [];
  for (let i = 0; i < requests.length; i += 25) {
    const chunk = requests.slice(i, i + 25).map((r) => ({ ...r, url: `v${connection.version}${r.url}` }));
    const response = await connection.requestPost<{ hasErrors: boolean; results: BatchSubresponse[] }>(
      '/composite/batch',
      { batchRequests: chunk, haltOnError: false },
    );
    results.push(...response.results);
  }
  return results;
}

export function queryUrl(soql: string): string {
  return `/query?q=${encodeURIComponent(soql)}`;
}

/** Salesforce answers a failed subrequest with its usual error array. */
export function subrequestError(response: BatchSubresponse): { errorCode: string; message: string } | undefined {
  if (response.statusCode < 300) return undefined;
  const body = Array.isArray(response.result) ? (response.result[0] as Record<string, unknown> | undefined) : undefined;
  return {
    errorCode: typeof body?.errorCode === 'string' ? body.errorCode : `ERROR_HTTP_${response.statusCode}`,
    message: typeof body?.message === 'string' ? body.message : `HTTP ${response.statusCode}`,
  };
}
