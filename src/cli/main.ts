import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { apiScopes, createApiToken, listApiTokens, revokeApiToken } from '../api/tokens';
import { ConfigError, loadDatabaseConfig, loadGateConfig } from '../config';
import { type DatabaseHandle, openDatabase } from '../db/client';
import { DataDirInUseError } from '../db/data-dir-lock';
import { isTandemError } from '../errors';
import { systemClock } from '../time';
import { parseTimeout, runGate } from './gate';

const usage = `Usage: npm run tandem -- <command>

  gate --service <s> --env <e> --title <t> [--type standard|normal|emergency]
       [--ref <ref>] [--commit <sha>] [--description <text>] [--requested-by <user or e-mail>]
       [--timeout 30m]                      request a change and wait for the decision;
                                            exit 0 approved, 1 rejected or cancelled, 3 timed out
                                            (needs TANDEM_URL and TANDEM_TOKEN)
  migrate                                   apply database migrations
  token create --name <name> [--scope <scope>]…
                                            create an API token (printed once, on the last line)
  token list                                list tokens (never their values)
  token revoke --name <name>                revoke a token

Scopes: ${apiScopes.join(', ')} (default: read).
incidents:private adds private incidents to what the token's other scopes show.`;

class UsageError extends Error {}

export async function runCli(argv: string[], out: (line: string) => void): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      scope: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
      service: { type: 'string' },
      env: { type: 'string' },
      title: { type: 'string' },
      type: { type: 'string', default: 'normal' },
      ref: { type: 'string' },
      commit: { type: 'string' },
      description: { type: 'string' },
      'requested-by': { type: 'string' },
      timeout: { type: 'string', default: '30m' },
    },
  });
  const [command, subcommand] = positionals;
  if (values.help || command === undefined || command === 'help') {
    out(usage);
    return 0;
  }
  if (command === 'gate') return runGateCommand(values, out);
  const known = command === 'migrate' || (command === 'token' && ['create', 'list', 'revoke'].includes(subcommand ?? ''));
  if (!known) throw new UsageError(`unknown command "${positionals.join(' ')}"`);

  const database = await openDatabase(loadDatabaseConfig());
  try {
    await database.migrate();
    if (command === 'migrate') {
      out(`Migrations applied (${database.kind} database).`);
      return 0;
    }
    await runTokenCommand(database, subcommand as 'create' | 'list' | 'revoke', values, out);
    return 0;
  } finally {
    await database.close();
  }
}

async function runTokenCommand(
  database: DatabaseHandle,
  subcommand: 'create' | 'list' | 'revoke',
  values: { name?: string; scope?: string[] },
  out: (line: string) => void,
) {
  const { db } = database;
  if (subcommand === 'list') {
    const tokens = await listApiTokens(db);
    if (tokens.length === 0) out('No API tokens yet. Create one with: npm run tandem -- token create --name <name> --scope <scope>');
    for (const token of tokens) {
      const state = token.revokedAt ? `revoked ${token.revokedAt.toISOString()}` : 'active';
      const used = token.lastUsedAt ? `last used ${token.lastUsedAt.toISOString()}` : 'never used';
      out(`${token.name}\t${token.scopes.join(',')}\t${state}\tcreated ${token.createdAt.toISOString()}\t${used}`);
    }
    return;
  }
  if (!values.name) throw new UsageError(`token ${subcommand} needs --name <name>`);
  if (subcommand === 'revoke') {
    const token = await revokeApiToken(db, systemClock, values.name);
    out(`Revoked "${token.name}". Requests with it are refused within 10 seconds.`);
    return;
  }
  const { token, record } = await createApiToken(db, systemClock, { name: values.name, scopes: values.scope ?? [] });
  out(`Created token "${record.name}" with scopes ${record.scopes.join(', ')}.`);
  out('Store it now: Tandem keeps only its hash and cannot show it again.');
  out(token);
}

async function runGateCommand(values: Record<string, string | string[] | boolean | undefined>, out: (line: string) => void): Promise<number> {
  const missing = ['service', 'env', 'title'].filter((option) => typeof values[option] !== 'string' || values[option] === '');
  if (missing.length > 0) throw new UsageError(`gate needs ${missing.map((option) => `--${option}`).join(', ')}`);
  const timeoutMs = parseTimeout(String(values.timeout));
  if (timeoutMs === undefined || timeoutMs === 0) throw new UsageError(`--timeout takes a duration such as 90s, 30m or 2h, not "${values.timeout}"`);
  const type = String(values.type);
  if (type !== 'standard' && type !== 'normal' && type !== 'emergency') throw new UsageError('--type is standard, normal or emergency');
  const text = (option: string) => (typeof values[option] === 'string' ? (values[option] as string) : undefined);
  return runGate(
    loadGateConfig(),
    {
      service: String(values.service),
      environment: String(values.env),
      title: String(values.title),
      type,
      ref: text('ref'),
      commitSha: text('commit'),
      description: text('description'),
      requestedBy: text('requested-by'),
      timeoutMs,
    },
    { out, now: Date.now, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) },
  );
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  runCli(process.argv.slice(2), (line) => process.stdout.write(`${line}\n`))
    .then((code) => {
      process.exitCode = code;
    })
    .catch((error: unknown) => {
      if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
        process.stderr.write(`tandem: ${(error as Error).message}\n\n${usage}\n`);
        process.exit(2);
      }
      if (error instanceof ConfigError) {
        process.stderr.write(`tandem: ${error.message}\n`);
        process.exit(2);
      }
      const explained = isTandemError(error) || error instanceof DataDirInUseError;
      process.stderr.write(`tandem: ${explained ? (error as Error).message : String((error as Error).stack ?? error)}\n`);
      process.exit(1);
    });
}
