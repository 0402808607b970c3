import { fillPlaceholders, SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { QueryConfig } from 'pg';

const dialect = new PgDialect({ casing: 'snake_case' });

/**
 * A raw statement (drizzle `sql` with `sql.placeholder`s, which drizzle can only prepare for its
 * query builder) built once into a named pg statement: pg parses it once per connection, and
 * nothing rebuilds its text per call. For a hot statement the builder cannot express (CTEs that
 * write). Run it with `pool.query(statement.query(values))`.
 */
export class PreparedSql {
  private readonly text: string;
  private readonly params: unknown[];

  constructor(
    /** Unique among the app's prepared statements: pg refuses one name with two texts on a connection. */
    private readonly name: string,
    statement: SQL,
  ) {
    const { sql, params } = dialect.sqlToQuery(statement);
    this.text = sql;
    this.params = params;
  }

  /** The query for these values, one per placeholder name. */
  query(values: Record<string, unknown>): QueryConfig {
    return { name: this.name, text: this.text, values: fillPlaceholders(this.params, values) };
  }
}
