// Gemini CLI on Google Vertex AI (auth type vertex-ai, GOOGLE_GENAI_USE_VERTEXAI) with gcloud Application Default
// Credentials, through wiretrail under the default policy: the ADC refresh at oauth2.googleapis.com/token, then
// `…/publishers/google/models/{m}:generateContent` (model routing) and `:streamGenerateContent?alt=sse`.
import { agentSuite } from './suite.js';
import { vertexChecks } from './vertex-checks.js';

const STREAM = /\/publishers\/google\/models\/[^/]+:streamGenerateContent\?alt=sse$/;
agentSuite('gemini-vertex', STREAM, (t, r) => vertexChecks(t, r, STREAM));
