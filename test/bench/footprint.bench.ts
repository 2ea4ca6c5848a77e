import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSandboxSlack } from '../../src/fake-slack';
import { childPidOf, freePort, memoryOf, postgresReachable, printTable, scratchDatabase, startTimed, stopProcess } from './support';

/**
 * Footprint: idle memory and start-to-ready of the server process, next to bare
 * anchors started the same way in the same run: a bare Bolt app (plain JavaScript,
 * no database) for Tandem on PostgreSQL, and bare PGlite + Drizzle applying the same
 * migrations for Tandem on the embedded database, on a fresh data directory (first
 * start) and on that directory again (reopen). Each is started twice; the table shows
 * both runs. Aims: idle RSS on PostgreSQL ≤ 1.5× bare Bolt, ready ≤ 1 s (≤ 1.2 s
 * through `npm start`); embedded first start peak ≤ 500 MB, reopen idle ≤ 350 MB.
 */
const runs = 2;
/** How long a process is left alone after it is ready before its idle memory is read. */
const settleMs = 3_000;
const root = new URL('../..', import.meta.url).pathname;

interface Figure {
  readyMs: number;
  rssMb: number;
  peakMb: number;
}

export async function run(): Promise<void> {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
  const fake = await startSandboxSlack();
  const work = mkdtempSync(path.join(tmpdir(), 'tandem-bench-footprint-'));
  const catalog = path.join(work, 'tandem.yaml');
  writeFileSync(catalog, 'services:\n  payments:\n    approvers: { users: [U0ANN] }\n');
  const slackEnv = { SLACK_BOT_TOKEN: fake.slack.botToken, SLACK_SIGNING_SECRET: 'bench', SLACK_API_URL: fake.slack.apiUrl };
  const tandemEnv = { ...slackEnv, TANDEM_CATALOG: catalog, LOG_LEVEL: 'warn' };

  const measure = async (args: string[], env: Record<string, string>, readyPath: string, command?: string): Promise<Figure> => {
    const port = await freePort();
    const started = await startTimed(args, { ...env, PORT: String(port) }, `http://127.0.0.1:${port}${readyPath}`, command);
    try {
      await new Promise((resolve) => setTimeout(resolve, settleMs));
      // Through npm, the server is npm's child (its shell exec'd node).
      const pid = command === undefined ? started.child.pid! : (childPidOf(started.child.pid!) ?? started.child.pid!);
      return { readyMs: started.readyMs, ...memoryOf(pid) };
    } finally {
      await stopProcess(started.child);
    }
  };
  const rows: Array<Array<string | number>> = [];
  const record = (name: string, figures: Figure[], anchor?: Figure[]) => {
    const mean = (pick: (figure: Figure) => number, list: Figure[]) => list.reduce((sum, figure) => sum + pick(figure), 0) / list.length;
    const ratio = (pick: (figure: Figure) => number) => (anchor ? `${(mean(pick, figures) / mean(pick, anchor)).toFixed(2)}×` : '—');
    rows.push([
      name,
      figures.map((figure) => figure.rssMb.toFixed(0)).join(' / '),
      ratio((figure) => figure.rssMb),
      figures.map((figure) => figure.peakMb.toFixed(0)).join(' / '),
      figures.map((figure) => (figure.readyMs / 1000).toFixed(2)).join(' / '),
      ratio((figure) => figure.readyMs),
    ]);
  };
  const twice = async (once: (round: number) => Promise<Figure>) => {
    const figures: Figure[] = [];
    for (let round = 0; round < runs; round += 1) figures.push(await once(round));
    return figures;
  };

  try {
    const bolt = await twice(() => measure(['test/bench/bare-bolt-server.mjs'], slackEnv, '/ready'));
    record('bare Bolt (plain JavaScript, no database)', bolt);
    if (await postgresReachable()) {
      const database = await scratchDatabase(`tandem_bench_footprint_${process.pid}`);
      try {
        const env = { ...tandemEnv, DATABASE_URL: database.url };
        // The first start applies the migrations; the measured ones find them applied.
        await measure(['dist/main.js'], env, '/readyz');
        record('Tandem on PostgreSQL, node dist/main.js', await twice(() => measure(['dist/main.js'], env, '/readyz')), bolt);
        record('Tandem on PostgreSQL, npm start', await twice(() => measure(['start', '--silent'], env, '/readyz', 'npm')), bolt);
        record('Tandem on PostgreSQL, TypeScript loader', await twice(() => measure(['--import', 'tsx', 'src/main.ts'], env, '/readyz')), bolt);
      } finally {
        await database.drop();
      }
    } else {
      console.log('footprint on PostgreSQL: skipped, PostgreSQL is not reachable (set TEST_DATABASE_URL)');
    }
    const dataDir = (name: string, round: number) => path.join(work, `${name}-${round}`);
    const bareFirst = await twice((round) => measure(['test/bench/bare-pglite-server.mjs'], { TANDEM_DATA_DIR: dataDir('bare', round) }, '/'));
    const bareReopen = await twice((round) => measure(['test/bench/bare-pglite-server.mjs'], { TANDEM_DATA_DIR: dataDir('bare', round) }, '/'));
    record('bare PGlite + Drizzle, first start', bareFirst);
    const first = await twice((round) => measure(['dist/main.js'], { ...tandemEnv, TANDEM_DATA_DIR: dataDir('tandem', round) }, '/readyz'));
    record('Tandem embedded, first start', first, bareFirst);
    record('bare PGlite + Drizzle, reopen', bareReopen);
    const reopen = await twice((round) => measure(['dist/main.js'], { ...tandemEnv, TANDEM_DATA_DIR: dataDir('tandem', round) }, '/readyz'));
    record('Tandem embedded, reopen', reopen, bareReopen);

    printTable(
      `Footprint: idle RSS ${settleMs / 1000} s after ready, peak RSS, start to ready; ${runs} runs each, ratios of means to the anchor above`,
      ['process', 'idle RSS MB', '× anchor', 'peak RSS MB', 'ready s', '× anchor'],
      rows,
    );
  } finally {
    await fake.close();
    rmSync(work, { recursive: true, force: true });
  }
}
