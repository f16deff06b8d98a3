/**
 * One server instance in its own process, for the scale tests that kill an instance for real
 * (SIGKILL: no close hooks, no lock release, no goodbye to Redis). Reads the complete app
 * configuration as JSON from `ELZ_SCALE_CONFIG` and the namespace from `ELZ_SCALE_PREFIX`,
 * builds the app with the same `buildApp` as every other instance, listens on 127.0.0.1 on a
 * free port and prints `LISTENING <port>`.
 */
import { buildApp } from '../../src/app.js';
import type { AppConfig } from '../../src/config/types.js';
import { createDatabase } from '../../src/db/index.js';
import { createStorage } from '../../src/storage/index.js';

const config = JSON.parse(process.env.ELZ_SCALE_CONFIG ?? '') as AppConfig;
const database = await createDatabase(config.database);
const storage = await createStorage(config.storage);
const app = await buildApp({
  config,
  database,
  storage,
  ...(process.env.ELZ_SCALE_PREFIX ? { realtimePrefix: process.env.ELZ_SCALE_PREFIX } : {}),
});
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.stdout.write(`LISTENING ${typeof address === 'object' && address ? address.port : 0}\n`);
