// ESLint flat config: typed rules from typescript-eslint over the whole project.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import layers from './eslint-rules/layers.js';

export default tseslint.config(
  // src/gen: generated from proto/ by `npm run generate` (kept current by a test, not by hand).
  // web/public: files served as they are (the service worker), outside the TypeScript projects.
  {
    ignores: [
      '**/dist/**',
      'node_modules/**',
      'coverage/**',
      'data/**',
      'src/gen/**',
      'web/public/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // scripts/prepare.mjs is plain JavaScript: it runs at install, before tsx may exist.
        projectService: { allowDefaultProject: ['scripts/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/require-await': 'off',
      // Client input is compiled with the input rules (src/shared/input-schema.ts).
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'typebox/compile',
              importNames: ['Compile'],
              message: 'Use compileInput from src/shared/input-schema.ts (adds the input rules).',
            },
          ],
        },
      ],
    },
  },
  { files: ['src/shared/input-schema.ts'], rules: { 'no-restricted-imports': 'off' } },
  {
    // Mass assignment: SQL writes name every column. A spread or a whole object handed
    // to values()/set() would write whatever keys it carries at run time.
    files: ['src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            'CallExpression[callee.property.name=/^(values|set|doUpdateSet)$/]:not([callee.object.name="Object"]) ObjectExpression > SpreadElement',
          message: 'Name each column written to SQL; do not spread an object into values()/set().',
        },
        {
          selector:
            'CallExpression[callee.property.name=/^(values|set|doUpdateSet)$/][arguments.length=1]:not([callee.object.name="Object"]) > Identifier.arguments',
          message: 'Name each column written to SQL; do not pass a whole object to values()/set().',
        },
      ],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Tests read JSON answers, whose shape is what they assert.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // Imports between the folders of src/ point downward (eslint-rules/layers.js has the
    // order). Tests are exempt: they drive the whole app from any level.
    files: ['src/**/*.ts'],
    ignores: ['**/*.test.ts', '**/*.contract.ts'],
    plugins: { local: layers },
    rules: { 'local/layers': ['error', { srcDir: `${import.meta.dirname}/src` }] },
  },
  { files: ['eslint.config.js', 'eslint-rules/*.js'], ...tseslint.configs.disableTypeChecked },
  // Probes preloaded into benchmark servers (node --require): plain CommonJS.
  {
    files: ['bench/support/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        process: 'readonly',
        setInterval: 'readonly',
        console: 'readonly',
      },
    },
    rules: {
      ...tseslint.configs.disableTypeChecked.rules,
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
);
