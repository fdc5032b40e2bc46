// ESLint flat config: typed rules from typescript-eslint over the whole project.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // src/gen: generated from proto/ by `npm run generate` (kept current by a test, not by hand).
  { ignores: ['**/dist/**', 'node_modules/**', 'coverage/**', 'data/**', 'src/gen/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
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
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
);
