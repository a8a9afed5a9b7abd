import { ConfigSource } from '../../config/load-config.js';
import { createInfrastructure } from '../../create-infrastructure.js';
import { createDashboard } from '../../dashboard/create-dashboard.js';
import { writeHeldLines, writeHeldLinesAtEnd } from '../../observability/held-lines.js';
import { createLogger, type Logger } from '../../observability/logger.js';
import { createServer } from '../../server/create-server.js';
import { createServiceBackend } from '../../server/infrastructure-backend.js';
import { serviceTenants } from '../../server/service-tenants.js';
import { createTenantServices } from '../../tenants/create-tenant-services.js';
import type { CommandIo } from '../output.js';
import { processSignals, type ServeSignals } from '../process-signals.js';

export { processSignals, type ServeSignals } from '../process-signals.js';

/** How long start-up waits to hear other replicas' key changes before serving anyway. */
const KEY_CHANGES_WAIT_MS = 5000;

/**
 * Signals that end `serve` at once, after it writes the log lines it holds: SIGHUP, by that signal
 * as it would end without a handler; on Windows, where Node emits SIGHUP when the console closes
 * (the process is ended some 10 s later) and a process cannot send it, by exit code 129. SIGQUIT keeps
 * its default, ending a wedged process at once with a core dump, and the lines held are lost to it.
 */
const END_SIGNALS: readonly NodeJS.Signals[] = ['SIGHUP'];

/**
 * `groundwork serve`: opens the infrastructure, applies pending migrations (unless
 * `DB_MIGRATE_ON_START=false`), listens on `HOST:PORT`, and on SIGTERM or SIGINT shuts down
 * gracefully — in-flight requests finish, the usage ledger is flushed, pools close — and exits 0.
 * SIGHUP ends it at once, by that signal (on Windows, by exit code 129), after it writes the log
 * lines it holds (giving up on a reader that stopped reading); SIGQUIT ends it at once with a core dump, losing the lines it holds.
 */
export async function serveCommand(
  io: CommandIo,
  signals: ServeSignals = processSignals({
    beforeSecondStop: writeHeldLinesAtEnd,
    endSignals: END_SIGNALS,
    beforeEnd: writeHeldLinesAtEnd,
    endByExit: process.platform === 'win32',
  }),
): Promise<number> {
  // Log lines held in memory (SERVER_LOG_FLUSH_MS) go out before each message on stderr, so that
  // the two streams, read together, keep the order things happened in.
  const say = (text: string): void => {
    writeHeldLines();
    io.err(text);
  };
  try {
    const configSource = new ConfigSource({ env: io.env, isTty: io.isTty, azureTokenProvider: false });
    const config = configSource.load();
    // A service's stdout is its log: held lines go out many at once (SERVER_LOG_FLUSH_MS).
    const logger: Logger = createLogger(config.logging, { destination: 'stdout', holdLinesMs: config.server.logFlushMs ?? 0 });
    const infrastructure = await createInfrastructure({ configSource, logger, processMetrics: true });
    const backend = createServiceBackend(infrastructure);
    const tenants = infrastructure.config.tenants.virtualKeys
      ? createTenantServices({ ...infrastructure, logger: logger.child({ component: 'tenants' }) }, { listen: true })
      : undefined;
    // Closed with the instance (by the server's close), before the database its budget sweeps use.
    if (tenants !== undefined) infrastructure.registerStoreUser({ name: 'tenants', close: () => tenants.close() });
    const adminKey = infrastructure.config.tenants.adminKey;
    const server = createServer(backend, infrastructure.config.server, {
      logger,
      metrics: infrastructure.metrics,
      ...(tenants === undefined ? {} : { tenants: serviceTenants(tenants) }),
      ...(tenants === undefined || adminKey === undefined
        ? {}
        : {
            admin: {
              repository: tenants.repository,
              adminKey,
              invalidate: () => tenants.changed(),
              usage: tenants.usage,
              rebuildBudgets: tenants.rebuildBudgets,
            },
          }),
      dashboard: createDashboard(infrastructure, {
        adminKey,
        tenants:
          tenants === undefined
            ? undefined
            : { repository: tenants.repository, invalidate: () => tenants.changed(), admission: tenants.admission },
      }),
    });
    try {
      if (infrastructure.config.database.migrateOnStart && backend.migrate !== undefined) {
        say('Applying pending migrations…');
        await backend.migrate();
      }
      // A key revoked elsewhere while this replica was not yet subscribed would stay cached for the TTL.
      if (tenants !== undefined && !(await tenants.listening(KEY_CHANGES_WAIT_MS))) {
        logger.warn(
          { component: 'tenants', waitedMs: KEY_CHANGES_WAIT_MS },
          'not yet listening for key changes from other replicas; until then they apply within TENANT_KEY_CACHE_TTL_MS',
        );
      }
      const address = await server.listen();
      const host = address.host.includes(':') ? `[${address.host}]` : address.host;
      say(`Groundwork listening on http://${host}:${address.port}`);
      if (infrastructure.config.server.apiKeys.length === 0 && tenants === undefined) {
        say('No GROUNDWORK_API_KEYS configured: serving this machine only (loopback), without authentication.');
      }
    } catch (error) {
      await server.close();
      throw error;
    }
    const signal = await signals.stopped;
    say(`${signal} received: finishing requests in flight, then closing…`);
    await server.close();
    say('Stopped.');
    return 0;
  } finally {
    // Before whatever the caller writes next (a start-up failure's message).
    writeHeldLines();
    signals.dispose();
  }
}
