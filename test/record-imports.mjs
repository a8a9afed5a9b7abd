// `node --import ./test/record-imports.mjs …`: prints every module URL the process loads, one per
// line prefixed with "loaded ", on stderr when it exits. For tests of what a command imports.
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const loaded = [];
const { port1, port2 } = new MessageChannel();
port1.on('message', (url) => loaded.push(url));
port1.unref();
register(
  'data:text/javascript,' +
    encodeURIComponent(`
      let port;
      export function initialize(data) { port = data.port; }
      export async function load(url, context, next) { port.postMessage(url); return next(url, context); }
    `),
  { data: { port: port2 }, transferList: [port2] },
);
process.on('exit', () => {
  for (const url of loaded) process.stderr.write(`loaded ${url}\n`);
});
