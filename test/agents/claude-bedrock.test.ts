// Claude Code (native binary) headless on AWS Bedrock through wiretrail: InvokeModelWithResponseStream event
// streams. The agent holds no AWS credential (CLAUDE_CODE_SKIP_BEDROCK_AUTH: it sends unsigned requests);
// wiretrail signs with the key in its policy (aws_sigv4), and the fake Bedrock accepts nothing else.
import { agentSuite } from './suite.js';
import { bedrockChecks } from './bedrock-checks.js';

agentSuite('claude-bedrock', /^\/model\/[^/]+\/invoke/, (t, r) => {
  bedrockChecks(t, r);
  t.notOk(r.requests.some((q) => q.clientSigned), 'the agent signed nothing');
});
