// `wiretrail config show`: the effective configuration (the flags `start` takes, WIRETRAIL_* variables, the
// --config file, defaults), secrets masked, with where each value came from.
import type { Command } from '../main.js';
import { parse, settings, UsageError } from '../args.js';
import { formatConfig } from '../../config/index.js';
import { START_OPTIONS } from './start.js';

const USAGE = `wiretrail config show [--json] [--config FILE] [any \`wiretrail start\` flag]

  Prints every setting's effective value and its source: flag, env WIRETRAIL_*, the config file, or default.
  Precedence: flags > WIRETRAIL_* environment > config file > defaults.`;

export const command: Command = {
  summary: 'show the effective configuration and where each value comes from',
  async run(argv) {
    const { values, positionals } = parse(argv, { ...START_OPTIONS, json: { type: 'boolean' } }, USAGE, true);
    if (values.help) {
      process.stdout.write(USAGE + '\n');
      return 0;
    }
    if (positionals.length !== 1 || positionals[0] !== 'show') throw new UsageError(`expected "show"\nusage: ${USAGE}`);
    const eff = settings(values, 'server');
    process.stdout.write(formatConfig(eff.values, eff.file, values.json === true));
    return 0;
  },
};
