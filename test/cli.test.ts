import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashToken } from '../src/api/tokens';
import { openDatabase } from '../src/db/client';
import { runTandem } from './support/process';

const cli = async (dataDir: string, ...args: string[]) => runTandem('src/cli/main.ts', args, { TANDEM_DATA_DIR: dataDir }).finished;

describe('npm run tandem -- token …', () => {
  it('creates a token, prints it once on the last line and stores only its hash', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'tandem-cli-'));
    const created = await cli(dataDir, 'token', 'create', '--name', 'github-actions', '--scope', 'changes:write', '--scope', 'read');
    expect(created.code).toBe(0);
    const lines = created.stdout.trim().split('\n');
    const token = lines.at(-1)!;
    expect(token).toMatch(/^tdm_[A-Za-z0-9_-]{43}$/);
    expect(lines[0]).toBe('Created token "github-actions" with scopes changes:write, read.');

    const listed = await cli(dataDir, 'token', 'list');
    expect(listed.stdout).toMatch(/^github-actions\tchanges:write,read\tactive\t/m);
    expect(listed.stdout).not.toContain(token);

    const duplicate = await cli(dataDir, 'token', 'create', '--name', 'github-actions');
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toBe('tandem: A token named "github-actions" already exists; revoke it or pick another name.\n');

    expect((await cli(dataDir, 'token', 'revoke', '--name', 'github-actions')).stdout).toContain('Revoked "github-actions"');
    expect((await cli(dataDir, 'token', 'list')).stdout).toMatch(/^github-actions\t.*\trevoked /m);

    const database = await openDatabase({ url: undefined, dataDir });
    const rows = await database.db.query.apiTokens.findMany();
    await database.close();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.tokenHash).toBe(hashToken(token));
    expect(JSON.stringify(rows)).not.toContain(token);
  });

  it('creates a token that may see private incidents', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'tandem-cli-'));
    const created = await cli(dataDir, 'token', 'create', '--name', 'security-bot', '--scope', 'read', '--scope', 'incidents:private');
    expect(created.code).toBe(0);
    expect(created.stdout.split('\n')[0]).toBe('Created token "security-bot" with scopes read, incidents:private.');
  });

  it('explains unknown scopes and wrong usage', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'tandem-cli-'));
    const [badScope, noName, unknown] = await Promise.all([
      cli(dataDir, 'token', 'create', '--name', 'x', '--scope', 'admin'),
      cli(mkdtempSync(path.join(tmpdir(), 'tandem-cli-')), 'token', 'create'),
      cli(mkdtempSync(path.join(tmpdir(), 'tandem-cli-')), 'tokens'),
    ]);
    expect(badScope.code).toBe(1);
    expect(badScope.stderr).toBe(
      'tandem: Unknown scope "admin". Scopes: incidents:write, changes:write, deployments:write, sprints:write, read, incidents:private.\n',
    );
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain('token create needs --name <name>');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "tokens"');
  });
});
