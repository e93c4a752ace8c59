// wiretrail mask [--stream]: a filter that masks secrets in stdin, with the proxy's engine.
import { StringDecoder } from 'node:string_decoder';
import type { Command } from '../main.js';
import { CliError, parse, settings, UsageError } from '../args.js';
import { createMaskEngine, CustomRuleError, RULES, type CustomRule, type MaskOptions } from '../../mask/index.js';

const USAGE =
  'wiretrail mask [--stream] [--placeholder TEMPLATE] [--allow VALUE]... [--rule NAME=REGEX]... [--policy FILE] [--summary] [--list-rules]';

const HELP = `${USAGE}

Reads text on stdin and writes it to stdout with secrets replaced by placeholders.
  --stream             mask incrementally as input arrives (tail -f app.log | wiretrail mask --stream)
  --placeholder T      placeholder template; {rule} and {n} are replaced (default [MASKED:{rule}#{n}])
  --allow VALUE        a literal value never to mask (repeatable)
  --rule NAME=REGEX    an extra rule (repeatable); a capture group selects the part to mask
  --policy FILE        take placeholder, rules and allow-list from the policy's mask: section
  --summary            print the number of findings per rule on stderr (never the secrets)
  --list-rules         print the built-in rules and exit
`;

function parseRule(spec: string): CustomRule {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new UsageError(`--rule: expected NAME=REGEX, got "${spec}"`);
  return { name: spec.slice(0, eq), regex: spec.slice(eq + 1) };
}

async function policyOptions(file: string): Promise<MaskOptions> {
  const { Policy } = await import('../../policy/index.js');
  const m = Policy.load(file).doc.mask;
  return { placeholder: m.placeholder, customRules: m.rules, allow: m.allow };
}

// a closed stdout (| head) ends the filter quietly, exit 0
let closed = false;

/** Writes with back-pressure; resolves at once when stdout has gone away. */
function write(chunk: string): Promise<void> {
  if (!chunk || closed) return Promise.resolve();
  return new Promise((resolve) => {
    if (process.stdout.write(chunk)) return resolve();
    const done = () => {
      process.stdout.off('drain', done);
      process.stdout.off('close', done);
      process.stdout.off('error', done);
      resolve();
    };
    process.stdout.on('drain', done);
    process.stdout.on('close', done);
    process.stdout.on('error', done);
  });
}

export const command: Command = {
  summary: 'mask secrets in stdin and write the result to stdout (--stream for live input)',
  async run(argv) {
    const { values } = parse(
      argv,
      {
        stream: { type: 'boolean' },
        placeholder: { type: 'string' },
        allow: { type: 'string', multiple: true },
        rule: { type: 'string', multiple: true },
        policy: { type: 'string' },
        summary: { type: 'boolean' },
        'list-rules': { type: 'boolean' },
      },
      USAGE,
    );
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    // --policy, or a policy named by --config / WIRETRAIL_POLICY (the default policy file is not implied).
    const policy = settings(values).values.get('policy')!;
    if (values['list-rules']) {
      for (const r of RULES) process.stdout.write(`${r.name.padEnd(34)} ${r.description}\n`);
      return 0;
    }
    const base: MaskOptions = policy.source !== 'default' ? await policyOptions(policy.value as string) : {};
    const opts: MaskOptions = {
      placeholder: values.placeholder ?? base.placeholder,
      customRules: [...(base.customRules ?? []), ...(values.rule ?? []).map(parseRule)],
      allow: [...(base.allow ?? []), ...(values.allow ?? [])],
    };
    if (opts.placeholder === '') throw new UsageError('--placeholder: must not be empty');
    let engine;
    try {
      engine = createMaskEngine(opts);
    } catch (err) {
      if (err instanceof CustomRuleError) throw new UsageError(err.message);
      throw err;
    }
    const session = engine.session();
    let failure: Error | null = null;
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      closed = true;
      if (err.code !== 'EPIPE') failure = new CliError(`stdout: ${err.message}`);
    });
    const decoder = new StringDecoder('utf8');
    const counts = new Map<string, number>();
    const count = (rules: { rule: string }[]) => rules.forEach((f) => counts.set(f.rule, (counts.get(f.rule) ?? 0) + 1));
    if (values.stream) {
      const masker = session.stream();
      for await (const chunk of process.stdin) {
        if (closed) break;
        await write(masker.push(decoder.write(chunk as Buffer)));
      }
      await write(masker.push(decoder.end()) + masker.flush());
      count(masker.findings);
    } else {
      let text = '';
      for await (const chunk of process.stdin) {
        if (closed) break;
        text += decoder.write(chunk as Buffer);
      }
      text += decoder.end();
      const r = session.maskText(text);
      count(r.findings);
      await write(r.text);
    }
    if (failure) throw failure;
    if (values.summary) {
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      process.stderr.write(`wiretrail mask: ${total} secret(s) masked${total ? ': ' : ''}${[...counts].map(([r, n]) => `${r} ${n}`).join(', ')}\n`);
    }
    return 0;
  },
};
