// `node --import ./test/record-imports.mjs …`: prints every module URL the process loads, one per
// line prefixed with "loaded ", on stderr when it exits. For tests of what a command imports.
// Loader hooks see what `import` loads; what `require()` loads (CommonJS inside a package, and ES
// modules required synchronously) is taken from the require cache as the process exits.
// With RECORD_IMPORTS_FILE set, writes those lines to that file instead: a process that exits at once
// can lose the end of a long stderr still in the pipe, the file is written whole before it exits.
import { writeFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';

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
  // Loads of the last moments are posted but not yet delivered: take them now.
  for (let message = receiveMessageOnPort(port1); message !== undefined; message = receiveMessageOnPort(port1))
    loaded.push(message.message);
  const seen = new Set(loaded);
  for (const path of Object.keys(createRequire(import.meta.url).cache)) {
    const url = pathToFileURL(path).href;
    if (!seen.has(url)) loaded.push(url);
  }
  const file = process.env.RECORD_IMPORTS_FILE;
  if (file !== undefined) writeFileSync(file, loaded.map((url) => `loaded ${url}\n`).join(''));
  else for (const url of loaded) process.stderr.write(`loaded ${url}\n`);
});
