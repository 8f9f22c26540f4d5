// @ts-check
/**
 * ESLint rule `local/no-import-cycle`: no module may reach itself through its imports, type-only imports included.
 *
 * `import-x/no-cycle` (also on) skips every `import type` and `export type … from`, with no option to count them; this
 * rule counts every edge the TypeScript program sees: imports and re-exports (type-only or not), `import x = require()`,
 * `require()`, `import()` and `import('…')` types. It reads the program that typed linting already built, so it costs
 * one walk per file; files linted without type information (.mjs, .cjs) are left to `import-x/no-cycle`.
 */
import path from 'node:path';
import ts from 'typescript';

/** @typedef {{ file: string; specifier: string; node: ts.Node }} Edge */

/** The local modules each source file imports, per program version (a WeakMap: an edited file is a new SourceFile). */
const edgesBySourceFile = new WeakMap();
const resolutionCaches = new WeakMap();

/** @param {ts.Node} node @returns {ts.StringLiteralLike | undefined} */
function moduleSpecifierOf(node) {
  if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
    return ts.isStringLiteralLike(node.moduleSpecifier) ? node.moduleSpecifier : undefined;
  }
  if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
    const expression = node.moduleReference.expression;
    return ts.isStringLiteralLike(expression) ? expression : undefined;
  }
  if (ts.isCallExpression(node)) {
    const callee = node.expression;
    const isImport = callee.kind === ts.SyntaxKind.ImportKeyword;
    const isRequire = ts.isIdentifier(callee) && callee.text === 'require';
    const [first] = node.arguments;
    return (isImport || isRequire) && first && ts.isStringLiteralLike(first) ? first : undefined;
  }
  if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
    const literal = node.argument.literal;
    return ts.isStringLiteralLike(literal) ? literal : undefined;
  }
  return undefined;
}

/**
 * @param {ts.Program} program
 * @param {ts.SourceFile} sourceFile
 * @returns {Edge[]}
 */
function localImportsOf(program, sourceFile) {
  const cached = edgesBySourceFile.get(sourceFile);
  if (cached) return cached;
  const options = program.getCompilerOptions();
  let cache = resolutionCaches.get(program);
  if (!cache) {
    cache = ts.createModuleResolutionCache(program.getCurrentDirectory(), (name) => name, options);
    resolutionCaches.set(program, cache);
  }
  /** @type {Edge[]} */
  const edges = [];
  /** @param {ts.Node} node */
  const visit = (node) => {
    const specifier = moduleSpecifierOf(node);
    if (specifier) {
      const { resolvedModule } = ts.resolveModuleName(specifier.text, sourceFile.fileName, options, ts.sys, cache);
      if (resolvedModule && !resolvedModule.isExternalLibraryImport) {
        const file = path.resolve(resolvedModule.resolvedFileName);
        if (!file.split(path.sep).includes('node_modules')) edges.push({ file, specifier: specifier.text, node });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  edgesBySourceFile.set(sourceFile, edges);
  return edges;
}

/** @type {import('eslint').Rule.RuleModule} */
const noImportCycle = {
  meta: {
    type: 'problem',
    docs: { description: 'Forbid import cycles, type-only imports included.' },
    schema: [],
    messages: { cycle: 'Import cycle: {{route}}' },
  },
  create(context) {
    const program = context.sourceCode.parserServices?.program;
    if (!program) return {};
    const self = path.resolve(context.physicalFilename);
    const sourceFile = program.getSourceFile(context.physicalFilename);
    if (!sourceFile) return {};
    const relative = (/** @type {string} */ file) => path.relative(program.getCurrentDirectory(), file);

    /** The shortest import route from `start` back to this file, or undefined. */
    const routeBack = (/** @type {string} */ start) => {
      /** @type {Map<string, string | undefined>} */
      const previous = new Map([[start, undefined]]);
      const queue = [start];
      while (queue.length > 0) {
        const file = /** @type {string} */ (queue.shift());
        const next = program.getSourceFile(file);
        if (!next) continue;
        for (const edge of localImportsOf(program, next)) {
          if (previous.has(edge.file)) continue;
          previous.set(edge.file, file);
          if (edge.file === self) {
            const route = [self];
            for (let at = previous.get(self); at !== undefined; at = previous.get(at)) route.unshift(at);
            return route;
          }
          queue.push(edge.file);
        }
      }
      return undefined;
    };

    return {
      'Program:exit'() {
        const reported = new Set();
        for (const edge of localImportsOf(program, sourceFile)) {
          if (reported.has(edge.file)) continue;
          const route = edge.file === self ? [self] : routeBack(edge.file);
          if (!route) continue;
          reported.add(edge.file);
          const start = sourceFile.getLineAndCharacterOfPosition(edge.node.getStart(sourceFile));
          const end = sourceFile.getLineAndCharacterOfPosition(edge.node.getEnd());
          context.report({
            loc: {
              start: { line: start.line + 1, column: start.character },
              end: { line: end.line + 1, column: end.character },
            },
            messageId: 'cycle',
            data: { route: [self, ...route].map(relative).join(' -> ') },
          });
        }
      },
    };
  },
};

export default { meta: { name: 'local' }, rules: { 'no-import-cycle': noImportCycle } };
