import { DataSource } from 'typeorm';
import { validateEnvOrExit } from '../config/env.js';
import { dataSourceOptions } from './data-source.js';

/** The data source the TypeORM CLI loads (`npm run migration:*`), configured from DATABASE_URL. */
export default new DataSource(dataSourceOptions(validateEnvOrExit('migrate').DATABASE_URL));
