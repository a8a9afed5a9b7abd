// `node --import ./test/record-imports.mjs …`: prints every module URL the process loads, one per
// line prefixed with "loaded ", on stderr when it exits. For tests of what a command imports.
// With RECORD_IMPORTS_FILE set, writes those lines to that file instead: a process that exits at once
// can lose the end of a long stderr still in the pipe, the file is written whole before it exits.
import { writeFileSync } from 'node:fs';
import { register } from 'node:module';
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
  const file = process.env.RECORD_IMPORTS_FILE;
  if (file !== undefined) writeFileSync(file, loaded.map((url) => `loaded ${url}\n`).join(''));
  else for (const url of loaded) process.stderr.write(`loaded ${url}\n`);
});
