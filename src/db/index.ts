export { openSqlClient } from "./sql-client.js";
export type { Listener, SqlClient, SqlQueryable, SqlParam, OpenOptions } from "./sql-client.js";
export { CONTRACT_SCHEMA_SQL, CONTRACT_TABLES } from "./contract-schema.js";
export { MIGRATIONS, OWN_SCHEMA, initRegistry, migrate } from "./migrations.js";
export type { Migration } from "./migrations.js";
export { shareEmbeddedRegistry } from "./registry-socket-server.js";
export type { RegistryShare, ShareOptions } from "./registry-socket-server.js";
export { PG_BOSS_SCHEMA, pgBossExecutor } from "./pg-boss-executor.js";
export type { PgBossExecutor } from "./pg-boss-executor.js";
