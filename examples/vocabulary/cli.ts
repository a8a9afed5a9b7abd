/**
 * `npm run example:vocabulary -- translate hello --from English --to Russian`
 * `npm run example:vocabulary -- check привет --expected привет --question hello --from English --to Russian`
 * @module
 */
import { runVocabularyCli } from './vocabulary-cli.js';

process.exitCode = await runVocabularyCli({ args: process.argv.slice(2) });
