import pg from 'pg';
import { postgresUrl, uniqueName } from '../../test/services.js';
import { runDatabaseContract } from './database-contract.test-helpers.js';

const name = uniqueName('gw_contract');

function urlFor(database: string): string {
  const url = new URL(postgresUrl());
  url.pathname = `/${database}`;
  return url.toString();
}

runDatabaseContract({
  name: 'PostgreSQL',
  url: () => urlFor(name),
  shareable: true,
  setup: async () => {
    const admin = new pg.Client({ connectionString: postgresUrl() });
    await admin.connect();
    await admin.query(`create database "${name}"`);
    await admin.end();
  },
  teardown: async () => {
    const admin = new pg.Client({ connectionString: postgresUrl() });
    await admin.connect();
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.end();
  },
});
