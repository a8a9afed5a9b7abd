#!/usr/bin/env node
import { once } from 'node:events';
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
// The command is over: exit as soon as what it wrote has been handed over. Left to end by itself, the
// process would first wait for keep-alive sockets a provider SDK pooled, then for V8's background work
// before tearing its heap down: seconds, on a busy machine. The timer is a backstop for an output
// that never drains, and does not keep the process alive.
setTimeout(() => process.exit(), 100).unref();
await Promise.all([process.stdout, process.stderr].map((stream) => (stream.writableLength > 0 ? once(stream, 'drain') : undefined)));
process.exit();
