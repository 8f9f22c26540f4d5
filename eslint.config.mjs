// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { builtinModules } from 'node:module';

/** Workflow code runs in Temporal's deterministic sandbox: no I/O, no Node built-ins, no clients. */
const forbiddenInWorkflows = [
  ...builtinModules,
  ...builtinModules.map((m) => `node:${m}`),
  'jsforce',
  'express',
  'zod',
  'pino',
  'jose',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
  '@temporalio/testing',
];

/** The Salesforce org emulator is a test double: the service's own code never depends on it. */
const EMULATOR_PACKAGE = '@agent-connections/salesforce-emulator';
const emulatorMessage =
  'The service must not import the Salesforce emulator (a test double for tests, bench and scripts): reach Salesforce through its API.';
const noEmulatorPaths = [{ name: EMULATOR_PACKAGE, message: emulatorMessage }];
const noEmulatorPatterns = [
  {
    group: [`${EMULATOR_PACKAGE}/*`, '**/packages/salesforce-emulator', '**/packages/salesforce-emulator/**'],
    message: emulatorMessage,
  },
];
/** The service's code: every folder deployed in the production image (and those still to come). */
const serviceFolders = [
  'activities',
  'api',
  'codec',
  'config',
  'observability',
  'workers',
  'workflows',
  'salesforce',
  'secrets',
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.data/**', 'reports/**', 'coverage/**', 'api/public/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: serviceFolders.map((folder) => `${folder}/**/*.{ts,js,mjs,cjs}`),
    rules: {
      'no-restricted-imports': ['error', { paths: noEmulatorPaths, patterns: noEmulatorPatterns }],
    },
  },
  {
    // No import cycles anywhere (service, tests, bench, scripts). import-x/no-cycle follows runtime imports, dynamic
    // ones and require() included; it skips type-only imports whatever its options, so `npm run lint` also runs
    // dependency-cruiser (.dependency-cruiser.cjs), which counts `import type` too.
    plugins: { 'import-x': importX },
    settings: {
      // Without .ts here import-x would not read the modules it resolves, and find no cycle at all.
      'import-x/extensions': ['.ts', '.cts', '.mts', '.js', '.cjs', '.mjs'],
      'import-x/external-module-folders': ['node_modules', 'node_modules/@types'],
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.json' })],
    },
    rules: {
      'import-x/no-cycle': [
        'error',
        { maxDepth: '∞', ignoreExternal: true, allowUnsafeDynamicCyclicDependency: false },
      ],
    },
  },
  {
    // Replaces the service folders' no-restricted-imports above for workflows/ (flat config does not merge rule
    // options), so it repeats the emulator ban.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...forbiddenInWorkflows.map((name) => ({
              name,
              message: 'Workflow code must stay deterministic: do I/O in an activity.',
            })),
            ...noEmulatorPaths,
          ],
          patterns: [
            {
              group: [
                '../activities',
                '../activities/*',
                '../salesforce/*',
                '../secrets/*',
                '../codec/*',
                '../observability/*',
                '../api/*',
                '../workers/*',
                '../config/*',
              ],
              allowTypeImports: true,
              message: 'Workflows may import types only from outside workflows/.',
            },
            ...noEmulatorPatterns,
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'No environment access in workflows.' }],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.cjs', '**/jest.config.js'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'packages/*/test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  prettier,
);
