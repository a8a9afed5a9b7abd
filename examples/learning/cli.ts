/**
 * `npm run example:learning -- generate "photosynthesis" --count 3 --user alice`
 * @module
 */
import { runLearningCli } from './learning-cli.js';

process.exitCode = await runLearningCli({ args: process.argv.slice(2) });
