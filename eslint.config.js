// ESLint: the rules that catch real defects here — floating and misused promises, unused code,
// switches that miss a case of a union, unsafe `any` flowing into typed code. Layout is
// Prettier's job (.prettierrc.json), not ESLint's.
import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {ignores: ['dist/**', 'node_modules/**', '.tmp/**', 'coverage/**', 'oclif.manifest.json', 'examples/**']},
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {projectService: true, tsconfigRootDir: import.meta.dirname},
    },
    linterOptions: {reportUnusedDisableDirectives: 'error'},
    rules: {
      // Every switch over a union names every member (or says `default` on purpose).
      '@typescript-eslint/switch-exhaustiveness-check': ['error', {considerDefaultExhaustiveForUnions: true}],
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none'}],
      // Matching control characters is what the sanitisers are for (safe-text, redact, renderers).
      'no-control-regex': 'off',
      // `async` without `await` is how a function keeps an async interface (CheckDef.judge,
      // engine hooks); a sync throw inside it still becomes a rejection, which callers rely on.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // vitest's asymmetric matchers (expect.any, expect.stringMatching, …) are typed `any`; in a
    // matcher object that is their design, not an unchecked value leaking into code.
    files: ['test/**/*.ts'],
    rules: {'@typescript-eslint/no-unsafe-assignment': 'off'},
  },
  {
    // Plain-JS files (bin, fixtures, the reaper) are not in the TypeScript project.
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {...tseslint.configs.disableTypeChecked.languageOptions, globals: globals.node},
  },
)
