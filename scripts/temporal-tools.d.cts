/** The Temporal CLI, the time-skipping test server, and OpenBao's `bao`. */
export type TemporalTool = 'cli' | 'testServer' | 'bao';
export function ensureTool(kind: TemporalTool): string;
export function cacheRoot(): string;
