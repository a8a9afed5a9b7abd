// `node --import ./test/delay-kysely-load.mjs`: registers hooks that hold an import() of Kysely
// under way for 300 ms; `globalThis.kyselyLoading` resolves when such a load starts.
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const { port1, port2 } = new MessageChannel();
globalThis.kyselyLoading = new Promise((resolve) => port1.once('message', resolve));
port1.unref();
register(new URL('./delay-kysely-load-hooks.mjs', import.meta.url), { data: { port: port2 }, transferList: [port2] });
