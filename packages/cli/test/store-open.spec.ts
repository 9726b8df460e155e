import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { run } from '../src';
import { PG_URL } from './support/ledger';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

async function cli(argv: string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), env: {}, ...(cwd === undefined ? {} : { cwd }) });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** A connection string with another user, password, port or database. */
function pgUrl(change: (url: URL) => void): string {
  const url = new URL(PG_URL);
  change(url);
  return url.toString();
}

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

describe('meterkit CLI: a store that does not exist is an error, not an empty ledger', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'meterkit-cli-open-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a SQLite file that does not exist, says where it looked and how to create one, and creates nothing', async () => {
    const result = await cli(['status', '--store', 'sqlite:./typo.db'], dir);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`No SQLite store at ${join(dir, 'typo.db')}`);
    expect(result.stderr).toContain('--create');
    expect(result.stderr).not.toContain('Nothing pending');
    expect(existsSync(join(dir, 'typo.db'))).toBe(false);
  });

  it('refuses the default ./meterkit.db when it is absent', async () => {
    const result = await cli(['records'], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`No SQLite store at ${join(dir, 'meterkit.db')}`);
    expect(existsSync(join(dir, 'meterkit.db'))).toBe(false);
  });

  it('refuses a directory given as the SQLite file', async () => {
    const result = await cli(['status', '--store', `sqlite:${dir}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${dir} is a directory, not a SQLite file`);
  });

  it('a file that is not a SQLite database: says so and leaves it as it was', async () => {
    const file = join(dir, 'notes.txt');
    writeFileSync(file, 'not a database, just some text long enough to fill a SQLite header and more of it');
    const result = await cli(['status', '--store', `sqlite:${file}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`Could not open the SQLite store at ${file}: file is not a database`);
    expect(readFileSync(file, 'utf8')).toMatch(/^not a database/);
  });

  it('--create starts an empty SQLite store, and the file then opens without it', async () => {
    const created = await cli(['--create', 'status', '--store', 'sqlite:new.db'], dir);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(created.stdout).toContain('Nothing pending.');
    expect(existsSync(join(dir, 'new.db'))).toBe(true);
    expect(await cli(['status', '--store', 'sqlite:new.db', '--json'], dir)).toMatchObject({ code: 0, stderr: '' });
  });
});

describe('meterkit CLI: PostgreSQL failures say what failed and what to do', () => {
  const schema = `mk_test_cli_open_${randomBytes(5).toString('hex')}`;
  const schemaExists = async (): Promise<boolean> => {
    const admin = new Pool({ connectionString: PG_URL, max: 1 });
    try {
      return (await admin.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount === 1;
    } finally {
      await admin.end();
    }
  };
  afterAll(async () => {
    const admin = new Pool({ connectionString: PG_URL, max: 1 });
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it('a wrong password: PostgreSQL refused the login for the user; check the password; the password is not printed', async () => {
    const store = pgUrl((u) => (u.password = 'not-the-password'));
    const result = await cli(['status', '--store', store]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`PostgreSQL refused the login for user ${new URL(PG_URL).username}: check the password in --store`);
    expect(result.stderr).not.toContain('not-the-password');
    expect(result.stderr).not.toMatch(/failed to open the PostgreSQL store/);
  });

  it('an unknown database: names it and says to check the database name', async () => {
    const result = await cli(['status', '--store', pgUrl((u) => (u.pathname = '/no_such_database'))]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/PostgreSQL at 127\.0\.0\.1:\d+ has no database "no_such_database": check the database name in --store/);
  });

  it('nothing listening: names host and port and says to check them and that PostgreSQL runs', async () => {
    const port = await closedPort();
    const result = await cli(['status', '--store', pgUrl((u) => (u.port = String(port)))]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`Nothing accepts connections at 127.0.0.1:${port}: check the host and port in --store and that PostgreSQL is running`);
  });

  it('a schema without meterkit tables is refused and left uncreated; --create creates it', async () => {
    const refused = await cli(['status', '--store', PG_URL, '--schema', schema]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`No meterkit tables in schema "${schema}"`);
    expect(refused.stderr).toContain('--create');
    expect(await schemaExists()).toBe(false);

    const created = await cli(['status', '--store', PG_URL, '--schema', schema, '--create']);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(await schemaExists()).toBe(true);
    expect(await cli(['status', '--store', PG_URL, '--schema', schema])).toMatchObject({ code: 0, stderr: '' });
  });
});
