import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.data/', 'drizzle/', 'openapi/', 'packages/*/dist/', 'packages/sdk/src/generated/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.mjs', '.dependency-cruiser.cjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Nest classes are often decorator-only modules.
      '@typescript-eslint/no-extraneous-class': 'off',
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Configuration is parsed once in src/config; inject AppConfig instead.' },
      ],
    },
  },
  {
    // Tool configs in CommonJS (dependency-cruiser's).
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
  {
    // Access tokens are signed with @nestjs/jwt's JwtService and verified by the passport-jwt strategy.
    files: ['src/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'jsonwebtoken', message: 'Sign with JwtService (@nestjs/jwt); verify through the passport-jwt strategy.' }] },
      ],
    },
  },
  {
    // The config loader is the one reader of process.env; tests, scripts and tooling set up environments.
    files: ['src/config/**', 'test/**', 'scripts/**', 'bench/**', 'vitest.config.mts', 'drizzle.config.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    // Responses are parsed JSON (any); the assertions are what check their shape.
    files: ['test/**', '**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
