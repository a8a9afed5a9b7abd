// Regenerates the configuration table in README.md from the schema (`npm run docs`).
import { readFileSync, writeFileSync } from 'node:fs';
import { configMarkdownTable } from '../src/cli/commands/config.js';

const START = '<!-- config-table:start -->';
const END = '<!-- config-table:end -->';
const path = new URL('../README.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const start = readme.indexOf(START);
const end = readme.indexOf(END);
if (start === -1 || end === -1) throw new Error('README.md has no config-table markers');
writeFileSync(path, `${readme.slice(0, start + START.length)}\n${configMarkdownTable()}\n${readme.slice(end)}`);
console.log('README.md configuration table updated');
