import { DataSource } from 'typeorm';
import { loadConfig } from '../config/config';
import { buildDataSourceOptions } from './data-source-options';

/** The DataSource the typeorm CLI uses, built by the same function as the app's (see ormconfig.ts). */
export default new DataSource({ ...buildDataSourceOptions(loadConfig().database), migrationsRun: false });
