// Gemini CLI headless through wiretrail: streamGenerateContent?alt=sse and the generateContent routing call.
import { agentSuite } from './suite.js';

agentSuite('gemini', /:streamGenerateContent/);
