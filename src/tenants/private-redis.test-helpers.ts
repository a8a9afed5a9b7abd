import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/**
 * A Redis server of a test's own, on a unix socket in a directory of its own, that it may kill
 * and start again (never the shared one). No TCP port: nothing else can take its address between
 * a kill and a restart.
 */
export interface PrivateRedis {
  /** The server's unix socket. */
  readonly socket: string;
  /**
   * A connected fail-fast client: no offline queue, quick reconnects. No command timeout: a killed
   * server's socket closes, which fails the commands in flight and those sent after at once, while
   * a timeout would only race a live server's answer against this process being held up.
   */
  client(): Promise<Redis>;
  /** Kills the server (SIGKILL): everything it held is lost. */
  kill(): Promise<void>;
  /** Starts an empty server again on the same socket; resolves once every open client has reconnected. */
  restart(): Promise<void>;
  /** Kills the server, closes every client and removes the socket's directory. */
  close(): Promise<void>;
}

async function ping(socket: string, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const probe = new Redis({ path: socket, lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return;
    } catch (error) {
      probe.disconnect();
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Resolves once `client` is connected and ready (it reconnects on its own after a restart). */
function ready(client: Redis): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => client.once('ready', () => resolve()));
}

/** Starts `redis-server` on a unix socket in a fresh temporary directory, without persistence. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const directory = await mkdtemp(join(tmpdir(), 'groundwork-redis-'));
  const socket = join(directory, 'redis.sock');
  const clients: Redis[] = [];
  let server: ChildProcess | undefined;
  const start = async () => {
    server = spawn(
      'redis-server',
      ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--dir', directory, '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    await ping(socket, 10_000);
  };
  const kill = async () => {
    const running = server;
    server = undefined;
    if (running === undefined || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGKILL');
    });
  };
  await start();
  return {
    socket,
    async client() {
      const client = new Redis({
        lazyConnect: true,
        path: socket,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        retryStrategy: () => 50,
      });
      client.on('error', () => {});
      clients.push(client);
      await client.connect();
      return client;
    },
    kill,
    async restart() {
      await start();
      await Promise.all(clients.filter((client) => client.status !== 'end').map(ready));
    },
    async close() {
      for (const client of clients) client.disconnect();
      await kill();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
