import { readdirSync } from 'node:fs';

/** `npm run bench`: runs every test/bench/*.bench.ts in turn (or those named on the command line). */
const only = process.argv.slice(2);
const files = readdirSync(new URL('.', import.meta.url))
  .filter((file) => file.endsWith('.bench.ts'))
  .filter((file) => only.length === 0 || only.some((name) => file.includes(name)))
  .sort();
for (const file of files) {
  console.log(`\n=== ${file}`);
  const benchmark = (await import(`./${file}`)) as { run: () => Promise<void> };
  await benchmark.run();
}
