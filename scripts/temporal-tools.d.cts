export type TemporalTool = 'cli' | 'testServer';
export function ensureTool(kind: TemporalTool): string;
export function cacheRoot(): string;
export const CLI_PYPI_VERSION: string;
export const TEST_SERVER_VERSION: string;
