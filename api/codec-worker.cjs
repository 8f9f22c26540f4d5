// The entry of the codec endpoint's worker threads (codec-workers.ts). A worker thread gets none of the TypeScript
// loaders of its parent (Jest's transform in the tests), so it loads the task through tsx, which the API runs on.
const tsx = require('tsx/cjs/api');

module.exports = tsx.require('./codec-worker-task.ts', __filename).runTask;
