// Placeholder until the owning issue lands this command.
import type { Command } from '../main.js';
import { CliError } from '../args.js';

export const command: Command = {
  summary: '(not yet available)',
  async run() {
    throw new CliError('verify is not available in this build');
  },
};
