export const SCHEMATHESIS_VERSION: string;
export function ensureSchemathesis(): string;
