#!/usr/bin/env node
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
// The command is over. Keep-alive sockets a provider SDK pooled (and the like) would hold the process
// for seconds more; let them go. This timer does not keep the process alive if nothing else does.
setTimeout(() => process.exit(), 100).unref();
