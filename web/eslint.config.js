// Lint rules of the panel: typescript-eslint's type-aware recommended set,
// React hooks rules, and no `any` unless a comment on that line says why
// (eslint-disable-next-line @typescript-eslint/no-explicit-any -- <reason>).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

// Every eslint-disable comment must give its reason after " -- ", so an
// `any` (or any other exception) always says why it is there.
const localRules = {
  rules: {
    'disable-needs-reason': {
      meta: { type: 'problem', schema: [], messages: { reason: 'Say why after " -- " in eslint-disable comments.' } },
      create(context) {
        return {
          Program() {
            for (const comment of context.sourceCode.getAllComments()) {
              const text = comment.value.trim();
              if (/^eslint-disable/.test(text) && !/\s--\s+\S/.test(text)) {
                context.report({ loc: comment.loc, messageId: 'reason' });
              }
            }
          },
        };
      },
    },
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      ecmaVersion: 2022,
      globals: { ...globals.browser },
      parserOptions: {
        projectService: {
          allowDefaultProject: ['eslint.config.js', 'scripts/*.mjs', 'e2e/*.mjs', 'e2e/*/*.mjs'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: {
      reportUnusedDisableDirectives: 'error',
    },
    plugins: { 'react-hooks': reactHooks, local: localRules },
    rules: {
      ...reactHooks.configs.recommended.rules,
      '@typescript-eslint/no-explicit-any': 'error',
      'local/disable-needs-reason': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    files: ['eslint.config.js', 'scripts/**/*.mjs', 'e2e/**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Node code: build scripts and the browser tests' harness.
    files: ['scripts/**/*.mjs', 'e2e/**/*.mjs'],
    languageOptions: { globals: { ...globals.node } },
    // Cleanup in tests ignores errors on purpose: .catch(() => {}).
    rules: { 'no-console': 'off', '@typescript-eslint/no-empty-function': 'off' },
  },
);
