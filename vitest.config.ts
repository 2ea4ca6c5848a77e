import { defineConfig } from 'vitest/config';

/**
 * Pure tests: rules, parsing, rendering and arithmetic, with no database, server or
 * process. They run without the database set-up, in seconds (`npx vitest run --project unit`).
 * A test file that needs none of those belongs here; everything else is integration.
 */
const unitTests = [
  'test/*/model.test.ts',
  'test/changes/policy.test.ts',
  'test/incidents/reminder-rules.test.ts',
  'test/sprints/digest.test.ts',
  'test/incidents/postmortem.test.ts',
  'test/catalog.test.ts',
  'test/config.test.ts',
  'test/errors.test.ts',
  'test/fields.test.ts',
  'test/http/database-errors.test.ts',
  'test/sandbox/rate-limits.test.ts',
  'test/sandbox/typed-text.test.ts',
];

const shared = { testTimeout: 20_000, hookTimeout: 30_000, pool: 'forks' } as const;

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: 'unit', include: unitTests } },
      {
        test: {
          ...shared,
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...unitTests, 'test/bench/**', 'node_modules/**'],
          // A migrated template database (PostgreSQL) that each test file copies.
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
    ],
  },
});
