import type { DataSourceOptions } from 'typeorm';
import type { DatabaseTarget } from '../config/database-url';
import { CLIENT_ENTITIES } from '../clients/client.entity';
import { buildDataSourceOptions } from '../database/data-source-options';
import { Attempt } from './attempt.entity';
import { Job } from './job.entity';

export const RELAY_ENTITIES = [Job, Attempt, ...CLIENT_ENTITIES];

/** The relay's DataSource options: the database's settings with the jobs' entities (app, CLI and tests). */
export function relayDataSourceOptions(target: DatabaseTarget): DataSourceOptions {
  return buildDataSourceOptions(target, RELAY_ENTITIES);
}
