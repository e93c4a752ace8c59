// Claude Code on AWS Bedrock with dummy AWS keys (an agent that insists on signing): its SigV4 signature is
// dropped and wiretrail signs with the key in its policy; the fake Bedrock accepts only wiretrail's key.
import { agentSuite } from './suite.js';
import { bedrockChecks } from './bedrock-checks.js';

agentSuite('claude-bedrock-signed', /^\/model\/[^/]+\/invoke/, (t, r) => {
  bedrockChecks(t, r);
  const model = r.requests.filter((q) => q.path.startsWith('/model/'));
  t.ok(model.every((q) => q.clientSigned), 'the agent signed its requests (with its dummy key)');
});
