// The shared CLI runners (test/helpers/cli.ts) under the names these tests use.
export { runCli, runCliHere, type CliResult } from '../../helpers/cli.js';
