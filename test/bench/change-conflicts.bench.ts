import { sql } from 'drizzle-orm';
import { parseCatalog } from '../../src/catalog';
import { findConflicts } from '../../src/changes/conflicts';
import { findChangeById, findConflictRows } from '../../src/changes/store';
import { openDatabase } from '../../src/db/client';
import type { ChangeRow } from '../../src/db/schema';
import { percentile, postgresReachable, printTable, scratchDatabase } from './support';

/**
 * The conflict check a change request runs, with 100,000 changes in the table (a
 * year of 200 services: mostly deployed, some pending or approved with windows) and
 * 10,000 incidents. Its p99 is printed next to a bare single-row lookup (a change by
 * id) on the same database in the same run. Aim: within 2× of the lookup.
 */
const counts = { services: 200, changes: Number(process.env.BENCH_CHANGES ?? 100_000), incidents: 10_000 };
const samples = Number(process.env.BENCH_SAMPLES ?? 2000);

export async function run(): Promise<void> {
  if (!(await postgresReachable())) {
    console.log('change conflicts: skipped, PostgreSQL is not reachable (set TEST_DATABASE_URL)');
    return;
  }
  const scratch = await scratchDatabase(`tandem_bench_conflicts_${process.pid}`);
  const handle = await openDatabase({ url: scratch.url, dataDir: '' });
  try {
    await handle.migrate();
    await seed(handle.db);
    const services = Array.from({ length: counts.services }, (_, index) => `s${String(index + 1).padStart(3, '0')}`);
    const catalog = parseCatalog(`services:\n${services.map((service) => `  ${service}: {}`).join('\n')}\nfreeze:\n  - { from: "2027-06-01", to: "2027-06-07", services: ["*"] }\n`);
    const deps = { catalog, timeZone: 'UTC' };
    // Candidates: open changes with windows, as a request is checked right after its insert.
    const candidates = (await handle.db.execute(sql`select id from changes where status = 'pending' and planned_start is not null order by number limit 200`)) as unknown as
      | { id: string }[]
      | { rows: { id: string }[] };
    const ids = (Array.isArray(candidates) ? candidates : candidates.rows).map((row) => row.id);
    const rows: ChangeRow[] = [];
    for (const id of ids) rows.push((await findChangeById(handle.db, id))!);
    let conflictsFound = 0;
    const time = async (label: string, work: (index: number) => Promise<unknown>) => {
      for (let index = 0; index < 200; index += 1) await work(index); // warm-up
      const times: number[] = [];
      for (let index = 0; index < samples; index += 1) {
        const started = performance.now();
        await work(index);
        times.push(performance.now() - started);
      }
      return [label, samples, percentile(times, 0.5).toFixed(3), percentile(times, 0.99).toFixed(3)] as Array<string | number>;
    };
    const bare = await time('bare single-row lookup (change by id)', (index) => findChangeById(handle.db, ids[index % ids.length]!));
    const check = await time('conflict check at request time', async (index) => {
      conflictsFound += (await findConflicts(handle.db, deps, rows[index % rows.length]!)).length;
    });
    const rowsOnly = await time('  of which the SQL (findConflictRows)', (index) => {
      const change = rows[index % rows.length]!;
      return findConflictRows(handle.db, { changeId: change.id, service: change.service, window: { start: change.plannedStart!, end: change.plannedEnd! }, limit: 10 });
    });
    printTable(`Conflict check with ${counts.changes} changes and ${counts.incidents} incidents (ms)`, ['query', 'runs', 'p50', 'p99'], [bare, check, rowsOnly]);
    const ratio = Number(check[3]) / Number(bare[3]);
    console.log(`conflicts found per check: ${(conflictsFound / samples).toFixed(2)} on average`);
    console.log(`p99 ratio conflict check / bare lookup: ${ratio.toFixed(2)}× (aim ≤ 2×): ${ratio <= 2 ? 'met' : 'MISSED'}`);
  } finally {
    await handle.close();
    await scratch.drop();
  }
}

async function seed(db: Parameters<typeof findChangeById>[0]): Promise<void> {
  const service = (column: string) => sql.raw(`'s' || lpad(((${column} % ${counts.services}) + 1)::text, 3, '0')`);
  // 2% pending and 1% approved, with windows over the coming 60 days; the rest closed history, half of it with windows too.
  await db.execute(sql`
    insert into changes (service, title, type, risk, environment, requested_by, requested_at, sprint, status, planned_start, planned_end, updated_at)
    select ${service('i')}, 'change ' || i, 'normal', 'medium', 'production', 'U0DEV', at, to_char(at, 'YYYY-MM-DD'),
      (case when (i / 200) % 50 = 0 then 'pending' when (i / 200) % 100 = 1 then 'approved' when i % 10 = 0 then 'failed' else 'deployed' end)::change_status,
      case when (i / 200) % 50 = 0 or (i / 200) % 100 = 1 then now() + (i % 14) * interval '1 day' + (i % 24) * interval '1 hour'
           when i % 2 = 0 then at end,
      case when (i / 200) % 50 = 0 or (i / 200) % 100 = 1 then now() + (i % 14) * interval '1 day' + (i % 24) * interval '1 hour' + interval '3 hours'
           when i % 2 = 0 then at + interval '2 hours' end,
      at
    from (select i, now() - random() * interval '365 days' as at from generate_series(1, ${counts.changes}) as i) as generated`);
  await db.execute(sql`
    insert into incidents (title, service, severity, declared_by, declared_at, status, resolved_at, updated_at)
    select 'incident ' || i, ${service('i')}, 1 + i % 4, 'U0DEV', at,
      (case when (i / 200) % 25 = 0 then 'investigating' else 'resolved' end)::incident_status,
      case when (i / 200) % 25 <> 0 then at + interval '2 hours' end, at
    from (select i, now() - random() * interval '365 days' as at from generate_series(1, ${counts.incidents}) as i) as generated`);
  await db.execute(sql`analyze`);
}
