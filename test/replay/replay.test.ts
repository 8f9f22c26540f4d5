import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { testDataConverter, workflowBundle } from '../support/harness';

const fixtures = path.join(__dirname, '..', 'fixtures', 'histories');
/**
 * Current histories at the top; older ones in a folder named after the change they predate (a patch, or a rewrite of
 * the workflow code that kept its commands), kept while such runs may exist.
 */
const files = fs.existsSync(fixtures)
  ? fs
      .readdirSync(fixtures, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.json'))
      .sort()
  : [];

/**
 * Replays histories recorded from real runs (RECORD_HISTORIES=1 npm test -- test/integration) with the current
 * workflow code: a change that would break running workflows fails here, before it reaches production.
 */
describe('replay of recorded histories', () => {
  it('has recorded histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(4);
  });

  it.each(files)('%s replays deterministically', async (file) => {
    const fixture = JSON.parse(fs.readFileSync(path.join(fixtures, file), 'utf8')) as {
      workflowId: string;
      history: unknown;
    };
    await Worker.runReplayHistory(
      { workflowBundle: await workflowBundle(), dataConverter: testDataConverter },
      historyFromJSON(fixture.history),
      fixture.workflowId,
    );
  });
});
