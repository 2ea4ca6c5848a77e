// The embedded database's anchor: PGlite opened on TANDEM_DATA_DIR with Drizzle and
// Tandem's migrations applied, as plainly as the libraries allow, then a bare HTTP
// server whose GET /ready answers 200. The first start initialises the directory.
import { createServer } from 'node:http';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';

const client = await PGlite.create(process.env.TANDEM_DATA_DIR);
await migrate(drizzle(client), { migrationsFolder: new URL('../../drizzle', import.meta.url).pathname });
createServer((_req, res) => res.end('ok')).listen(Number(process.env.PORT));
