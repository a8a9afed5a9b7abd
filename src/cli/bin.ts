#!/usr/bin/env node
import { main } from './main.js';
import { settleOutput } from './process-output.js';

const status = await main(process.argv.slice(2));
// The command is over: exit as soon as what it wrote has been handed over, however slowly a pipe's
// reader reads, or its reader has gone. Left to end by itself, the process would first wait for
// keep-alive sockets a provider SDK pooled, then for V8's background work before tearing its heap
// down: seconds, on a busy machine.
process.exit(await settleOutput(status));
