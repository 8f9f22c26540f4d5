/**
 * `npm run lint:cycles`: no module may reach itself through its imports, type-only imports included (ESLint's
 * import-x/no-cycle skips those). tsPreCompilationDeps makes dependency-cruiser read imports before TypeScript
 * erases the type-only ones.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A module reaches itself through its imports (type-only imports count): move what both need apart.',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['node_modules', '^dist/', '^\\.data/', '^reports/', '^coverage/'] },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
