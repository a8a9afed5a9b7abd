import { runDatabaseContract } from './database-contract.test-helpers.js';

runDatabaseContract({ name: 'PGlite', url: () => 'pglite:memory', shareable: false });
