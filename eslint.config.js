import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // test/fakes/bin: plain node scripts that stand in for docker, kind and kubectl.
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'bin/', 'test/fakes/bin/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { arguments: false } },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  // Sizes that keep the code readable: a file says one thing, a function does one thing.
  {
    files: ['src/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 600 }],
      'max-lines-per-function': ['error', { max: 100, skipBlankLines: true, skipComments: true }],
    },
  },
  // Layers (see the README's layout): the embedded cluster stands alone; the pure core does
  // no I/O; the replica's server knows nothing of the CLI or the embedded cluster.
  {
    files: ['src/sim/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/cli/**'], message: 'the embedded cluster never imports the CLI' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/cli/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../commands/**', '../tools/**', '../kube/**', '../program.js', '**/sim/**'],
              message:
                'core is pure: no commands, tools, Kubernetes client, program or embedded cluster',
            },
          ],
        },
      ],
    },
  },
  // Only kube/ talks to the Kubernetes API (and translates its errors); elsewhere in the CLI
  // client-node is a source of types.
  {
    files: ['src/cli/**/*.ts'],
    ignores: ['src/cli/kube/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@kubernetes/client-node',
              allowTypeImports: true,
              message: 'call the API through src/cli/kube/ (KubeApi), which translates its errors',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/cli/kube/**/*.ts', 'src/cli/tools/**/*.ts', 'src/cli/render/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../commands/**', '../up/**', '../program.js', '**/sim/**'],
              message: 'kube/, tools/ and render/ serve the commands; they never import them',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/common/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/cli/**', '**/sim/**', '**/server/**'],
              message: 'common/ is shared by the CLI and the embedded cluster; it imports neither',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/server/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/cli/**', '**/sim/**'],
              message: 'the server imports neither the CLI nor the embedded cluster',
            },
          ],
        },
      ],
    },
  },
  // The dashboard's page runs in the browser: it shares types with the server, no code.
  {
    files: ['src/web/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/cli/**', '**/sim/**', '**/server/**'],
              allowTypeImports: true,
              message: 'the page imports types only (src/cli/dashboard/protocol.ts), never code',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  // Plain Node.js scripts outside the TypeScript project: linted, without type information
  // (the benchmarks are type-checked on their own: tsconfig.bench.json).
  {
    files: ['scripts/**/*.mjs', 'bench/**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { projectService: false },
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        performance: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
  },
);
