import { Injectable } from '@nestjs/common';
import { SqlExecutor } from '../database/sql-executor';

/**
 * What every replica has seen of each LLM server, in the database so that they agree on which is dead: its last
 * successful forward or health probe, and since when every one tried has failed.
 */
@Injectable()
export class ServerLivenessRepository {
  constructor(private readonly sql: SqlExecutor) {}

  /** One forward's or probe's verdict (by the database clock). */
  async record(name: string, success: boolean): Promise<void> {
    const now = this.sql.dialect.nowMs;
    const [lastSuccess, failingSince] = success
      ? [now, 'NULL']
      : ['llm_server_liveness.last_success_at', `COALESCE(llm_server_liveness.failing_since, ${now})`];
    await this.sql.execute(
      `INSERT INTO llm_server_liveness (name, last_success_at, failing_since) VALUES (?, ${success ? now : 'NULL'}, ` +
        `${success ? 'NULL' : now}) ON CONFLICT (name) DO UPDATE SET last_success_at = ${lastSuccess}, ` +
        `failing_since = ${failingSince}`,
      [name],
    );
  }

  /** The servers that have failed everything tried for at least `deadAfterMs`. */
  async dead(deadAfterMs: number): Promise<string[]> {
    const { records } = await this.sql.execute(
      `SELECT name FROM llm_server_liveness WHERE failing_since IS NOT NULL AND failing_since <= ${this.sql.dialect.nowMs} - ?`,
      [deadAfterMs],
    );
    return records.map((row) => String(row.name));
  }
}
