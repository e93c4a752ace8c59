// Runs the wiretrail CLI from source for spawned tests (`node --import tsx cli-entry.ts ARGS`).
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
