// A local ESLint rule holding the direction of imports between the folders of src/:
// a file may import its own folder and the layers below it, never a layer above.
// The order is the architecture of docs/architecture.md; a test plants a wrong-way
// import and checks `npm run lint` refuses it (test/lint/layers.test.ts).
import path from 'node:path';

/**
 * Lowest first. Folders on one line form one layer and may import each other
 * (feature modules may use each other's public types; platform folders too).
 */
export const LAYERS = [
  ['shared', 'errors', 'gen'],
  ['config'],
  ['adapters'],
  ['auth'],
  ['http'],
  ['events'],
  ['realtime'],
  ['gateway'],
  ['modules'],
  ['catalogue'],
  ['app'],
  // Copying another system's data in (import/): uses storage and the modules'
  // entities, is used only by the command line, never by the running server.
  ['import'],
  ['cli', 'cli.ts'],
];

const rank = new Map(LAYERS.flatMap((folders, index) => folders.map((f) => [f, index])));

/** The top-level folder (or root file) of src/ a path lies in, or undefined outside src/. */
function layerOf(file, srcDir) {
  const relative = path.relative(srcDir, file);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return undefined;
  return relative.split(path.sep)[0];
}

export const layersRule = {
  meta: {
    type: 'problem',
    docs: { description: 'imports between the layers of src/ point downward only' },
    schema: [{ type: 'object', properties: { srcDir: { type: 'string' } }, required: ['srcDir'] }],
    messages: {
      upward:
        'src/{{from}} (layer {{fromRank}}) may not import src/{{to}} (layer {{toRank}}): imports point downward ({{order}}).',
      unknown: 'src/{{folder}} is not in the layer list of eslint-rules/layers.js; add it there.',
    },
  },
  create(context) {
    const { srcDir } = context.options[0];
    const from = layerOf(context.filename, srcDir);
    if (from === undefined) return {};
    const check = (node, source) => {
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const to = layerOf(path.resolve(path.dirname(context.filename), source), srcDir);
      if (to === undefined || to === from) return;
      for (const folder of [from, to]) {
        if (!rank.has(folder)) {
          context.report({ node, messageId: 'unknown', data: { folder } });
          return;
        }
      }
      if (rank.get(to) > rank.get(from)) {
        context.report({
          node,
          messageId: 'upward',
          data: {
            from,
            to,
            fromRank: String(rank.get(from)),
            toRank: String(rank.get(to)),
            order: LAYERS.map((l) => l.join('/')).join(' < '),
          },
        });
      }
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
      TSImportType: (node) => {
        const literal = node.argument?.literal ?? node.argument;
        if (literal?.type === 'Literal') check(node, literal.value);
      },
    };
  },
};

export default { rules: { layers: layersRule } };
