import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackSimulator } from '../src/fake-slack';
import { runTandem, serveFakeSlack, waitForOutput } from './support/process';

const root = new URL('..', import.meta.url).pathname;
const signingSecret = 'build-test-secret';

/**
 * What `npm start` runs is the esbuild bundle, not the TypeScript the other tests
 * load: this builds it as `npm start` does and drives the bundle itself.
 */
describe('the compiled build', () => {
  let fake: Awaited<ReturnType<typeof serveFakeSlack>>;
  beforeAll(async () => {
    fake = await serveFakeSlack();
    fake.slack.addUser({ id: 'U0ALICE', name: 'alice' });
    fake.slack.addChannel({ id: 'C0GENERAL', name: 'general', members: ['U0ALICE'] });
    await promisify(execFile)(process.execPath, ['scripts/build.mjs'], { cwd: root });
  }, 120_000);
  afterAll(() => fake.close());

  /** dist/main.js and every chunk it imports as it loads, not those it imports with import(). */
  const loadedAtStart = (file: string, seen = new Set<string>()): Set<string> => {
    if (seen.has(file)) return seen;
    seen.add(file);
    for (const [, specifier] of readFileSync(file, 'latin1').matchAll(/(?:^|[;}])import(?:[^"'()]*?from)?\s*"([^"]+)"/gm)) {
      if (specifier!.startsWith('.')) loadedAtStart(path.resolve(path.dirname(file), specifier!), seen);
      else seen.add(specifier!);
    }
    return seen;
  };

  it('is plain ASCII, so V8 keeps its source at one byte a character', () => {
    const scripts = [...loadedAtStart(path.join(root, 'dist/main.js'))].filter((file) => file.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(1);
    for (const script of scripts) expect(readFileSync(script, 'latin1').search(/[^\x00-\x7f]/)).toBe(-1);
  });

  it('loads the embedded database and the GitHub App only when they are used', () => {
    const loaded = loadedAtStart(path.join(root, 'dist/main.js'));
    expect(loaded).toContain('node:http');
    const scripts = [...loaded].filter((file) => file.endsWith('.js'));
    const lazy = scripts.flatMap((file) =>
      [...readFileSync(file, 'latin1').matchAll(/import\("([^"]+)"\)/g)].map(([, specifier]) => (specifier!.startsWith('.') ? path.resolve(path.dirname(file), specifier!) : specifier!)),
    );
    // PGlite itself, its Drizzle driver and migrator, and the GitHub App's module.
    expect(lazy).toContain('@electric-sql/pglite');
    expect(lazy.filter((target) => target.startsWith(path.join(root, 'dist')))).toHaveLength(3);
    expect(lazy.filter((target) => loaded.has(target))).toEqual([]);
  });

  it('serves commands on the embedded database, answers reads in the ack, and stops cleanly on SIGTERM', async () => {
    const catalog = path.join(mkdtempSync(path.join(tmpdir(), 'tandem-build-')), 'tandem.yaml');
    writeFileSync(catalog, 'services:\n  payments:\n    owners: [U0ALICE]\n    approvers: { users: [U0BOB] }\n');
    const running = runTandem('dist/main.js', [], {
      SLACK_BOT_TOKEN: fake.slack.botToken,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: fake.slack.apiUrl,
      TANDEM_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'tandem-build-data-')),
      TANDEM_CATALOG: catalog,
      PORT: '0',
      LOG_LEVEL: 'info',
    });
    const [, port] = await waitForOutput(running, /"port":(\d+).*"msg":"tandem is serving"/, 30_000);
    const simulator = new SlackSimulator(fake.slack, { requestUrl: `http://127.0.0.1:${port}/slack/events`, signingSecret });

    const empty = await simulator.command('U0ALICE', 'C0GENERAL', '/change', 'list');
    expect(empty.body).toMatchObject({ response_type: 'ephemeral', text: 'No open changes. Request one with `/change <service> <title>`.' });
    expect((await simulator.command('U0ALICE', 'C0GENERAL', '/change', 'payments Rotate card-vault keys')).status).toBe(200);
    const deadline = Date.now() + 10_000;
    while (!fake.slack.ephemeralsFor('U0ALICE').some((reply) => reply.text.startsWith('Requested *CHG-1*')) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const listed = await simulator.command('U0ALICE', 'C0GENERAL', '/change', 'list');
    expect((listed.body as { text: string }).text).toContain('*CHG-1* Rotate card-vault keys · payments → production · ⏳ Waiting for approval');

    running.child.kill('SIGTERM');
    const result = await running.finished;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('"msg":"stopped"');
  }, 60_000);
});
