import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      '.bench/',
      'sample-app/dist/',
      'sample-app/coverage/',
      'sample-app/test-results/',
    ],
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', process: 'readonly', module: 'writable' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['tasks/**/*.ts'],
    ignores: ['tasks/**/*.test.ts'],
    rules: {
      // Task code reports through task-lib so that output is masked and localised.
      'no-console': 'error',
    },
  },
);
