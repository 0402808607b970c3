import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export interface TestDatabaseInfo {
  /** A connection to a maintenance database on the test server, used only to create and drop databases. */
  adminUrl: string;
  template: string;
}

/** Our test helpers create, migrate and drop databases; they refuse any whose name does not say "test". */
export function assertTestDatabaseName(name: string): void {
  if (!/test/i.test(name)) {
    throw new Error(`Refusing to touch database "${name}": test databases must have "test" in their name.`);
  }
}

export function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export function databaseNameOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
}

export async function withAdminClient<T>(adminUrl: string, work: (client: Client) => Promise<T>): Promise<T> {
  assertTestDatabaseName(databaseNameOf(adminUrl));
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export const uniqueTestDatabaseName = (kind: string) => `gatehouse_test_${kind}_${process.pid}_${randomBytes(4).toString('hex')}`;

export async function createDatabase(adminUrl: string, name: string, template?: string): Promise<string> {
  assertTestDatabaseName(name);
  if (template) assertTestDatabaseName(template);
  await withAdminClient(adminUrl, (client) =>
    client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}${template ? ` TEMPLATE ${client.escapeIdentifier(template)}` : ''}`),
  );
  return databaseUrl(adminUrl, name);
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  assertTestDatabaseName(name);
  await withAdminClient(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`));
}
