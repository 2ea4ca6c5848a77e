// Builds what `npm start`, `npm run migrate` and `npm run tandem` run: src/main.ts and
// src/cli/main.ts bundled by esbuild into dist/ as plain JavaScript, so production
// never runs TypeScript through a loader. A build takes a second or two on a busy
// machine, so it is skipped when dist/ is newer than every file that went into it
// (recorded in dist/inputs.json). `--force` always builds.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const outdir = path.resolve(root, process.env.TANDEM_BUILD_DIR ?? 'dist');
const record = path.join(outdir, 'inputs.json');
const entryPoints = { main: 'src/main.ts', cli: 'src/cli/main.ts' };
/** Files that decide the build besides the sources it reads (npm keeps packages' own old modification times, so installs show in the lock files). */
const alwaysInputs = ['package.json', 'package-lock.json', 'node_modules/.package-lock.json', 'scripts/build.mjs'];

/**
 * Left to Node at run time: PGlite finds its WebAssembly and data files next to its
 * own module, and resvg is a native addon. (pino is bundled: Tandem uses no transports,
 * the one part of it that loads files by name.)
 */
const external = ['@electric-sql/pglite', '@resvg/resvg-js', 'esbuild'];

function upToDate() {
  let built;
  try {
    built = JSON.parse(readFileSync(record, 'utf8'));
  } catch {
    return false;
  }
  if (built.entryPoints !== JSON.stringify(entryPoints) || built.external !== JSON.stringify(external)) return false;
  for (const file of [...built.inputs, ...alwaysInputs]) {
    let modified;
    try {
      modified = statSync(path.join(root, file)).mtimeMs;
    } catch {
      // A file that is gone (package-lock.json in a checkout without one) changed the build only if it was read.
      if (alwaysInputs.includes(file)) continue;
      return false;
    }
    if (modified >= built.startedAt) return false;
  }
  return true;
}

async function build() {
  const startedAt = Date.now();
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints,
    outdir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external,
    // What is imported with import() (the embedded database's driver and migrator, the
    // GitHub App) becomes a chunk loaded only when used: without splitting,
    // esbuild would hoist their imports of external packages (PGlite) to the top.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    // Bundled CommonJS packages (Bolt, its HTTP stack) call require() for Node's own modules.
    banner: { js: "import { createRequire as __tandemCreateRequire } from 'node:module'; const require = __tandemCreateRequire(import.meta.url);" },
    // No comments, no indentation, ASCII only: V8 keeps the whole source in memory, and
    // one non-ASCII character in a comment makes it two bytes a character. Names stay,
    // so stack traces read as the source does.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    charset: 'ascii',
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
    write: false,
  });
  for (const file of result.outputFiles.filter((output) => output.path.endsWith('.js'))) {
    // esbuild escapes strings but leaves regex literals as written.
    const at = file.text.search(/[^\x00-\x7f]/);
    if (at >= 0) {
      throw new Error(
        `${path.relative(root, file.path)} has a non-ASCII character (near "${file.text.slice(Math.max(0, at - 40), at + 10)}"): V8 would keep the whole bundle at two bytes a character. Build that regular expression from a string.`,
      );
    }
  }
  mkdirSync(path.join(outdir, 'chunks'), { recursive: true });
  // Each file is written aside and renamed into place, chunks before the entry points
  // that import them, so a process started by a concurrent `npm start` (web and
  // release together) never reads half a bundle.
  const inputs = Object.keys(result.metafile.inputs);
  const isChunk = (file) => path.dirname(file) === path.join(outdir, 'chunks');
  const files = [
    ...result.outputFiles.filter((file) => isChunk(file.path)),
    ...result.outputFiles.filter((file) => !isChunk(file.path)),
    { path: record, contents: JSON.stringify({ startedAt, entryPoints: JSON.stringify(entryPoints), external: JSON.stringify(external), inputs }) },
  ];
  for (const file of files) {
    const aside = `${file.path}.${process.pid}.tmp`;
    writeFileSync(aside, file.contents);
    renameSync(aside, file.path);
  }
  // Chunks are named by their content; those of earlier builds are no longer imported.
  const current = new Set(result.outputFiles.map((file) => file.path));
  for (const name of readdirSync(path.join(outdir, 'chunks'))) {
    const file = path.join(outdir, 'chunks', name);
    if (!current.has(file) && !name.endsWith('.tmp')) rmSync(file, { force: true });
  }
}

/**
 * A freshly initialised embedded database, made once per PGlite version: Tandem's
 * first start on an empty TANDEM_DATA_DIR unpacks it instead of running initdb, which
 * would more than double that start's peak memory (src/db/client.ts). Making it peaks
 * near 750 MB, once, here.
 */
async function makeEmbeddedTemplate() {
  const require = createRequire(import.meta.url);
  const packageJson = path.join(path.dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json');
  const { version } = JSON.parse(readFileSync(packageJson, 'utf8'));
  const template = path.join(outdir, `pglite-${version}.tar.gz`);
  if (existsSync(template)) return;
  const { PGlite } = await import('@electric-sql/pglite');
  // The same settings as src/db/client.ts, so the template's initdb sizes itself alike.
  const settings = ['-c', 'shared_buffers=16MB'];
  const database = await PGlite.create(undefined, { startParams: [...PGlite.defaultStartParams, ...settings], initDbStartParams: settings });
  const dump = await database.dumpDataDir('gzip');
  await database.close();
  mkdirSync(outdir, { recursive: true });
  const aside = `${template}.${process.pid}.tmp`;
  writeFileSync(aside, Buffer.from(await dump.arrayBuffer()));
  renameSync(aside, template);
}

if (process.argv.includes('--force') || !upToDate()) {
  try {
    await build();
  } catch (error) {
    process.stderr.write(`tandem: the build failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
await makeEmbeddedTemplate();
