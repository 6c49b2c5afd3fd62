import { DataSource } from 'typeorm';
import { loadConfig } from './config/config';
import { relayDataSourceOptions } from './jobs/relay-data-source';

/** The DataSource the typeorm CLI uses, built by the same function as the app's (see ormconfig.ts). */
export default new DataSource({ ...relayDataSourceOptions(loadConfig().database), migrationsRun: false });
