// The two CLI failure kinds, apart from args.ts so the dispatcher (and `--version`) load nothing else.

/** A bad command line: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failure the user can act on: printed as one line on stderr, exit code 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
}
