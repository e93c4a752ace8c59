// Claude Code (native binary) on Google Vertex AI with its default auth, through wiretrail under the default
// policy: gcloud Application Default Credentials (authorized_user) refreshed at oauth2.googleapis.com/token, then
// Anthropic Messages SSE from `…/publishers/anthropic/models/{m}:streamRawPredict` on us-east5-aiplatform.
import { agentSuite } from './suite.js';
import { vertexChecks } from './vertex-checks.js';

const STREAM = /\/publishers\/anthropic\/models\/[^/]+:streamRawPredict$/;
agentSuite('claude-vertex', STREAM, (t, r) => vertexChecks(t, r, STREAM));
