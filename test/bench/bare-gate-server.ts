import { createServer } from 'node:http';
import postgres from 'postgres';

/**
 * The benchmark's baseline: the least a gate lookup can cost here, a bare node:http
 * server reading one change row with postgres.js and answering it as JSON.
 */
const sql = postgres(process.env.DATABASE_URL!, { max: 10, onnotice: () => {} });

createServer(async (req, res) => {
  const id = (req.url ?? '').split('/').pop()?.split('?')[0] ?? '';
  if (id === 'ready') return res.end('ok');
  const [row] = await sql`select * from changes where id = ${id}`;
  const json = JSON.stringify(row ?? null);
  res.writeHead(row ? 200 : 404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}).listen(Number(process.env.PORT));
