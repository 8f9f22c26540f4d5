export type TemporalTool = 'cli' | 'testServer';
export function ensureTool(kind: TemporalTool): string;
