// Runs the wiretrail CLI from source (through tsx), so tests exercise the current code without a build.
import { main } from '../../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
