// Claude Code (native binary) headless through wiretrail: Anthropic Messages over SSE.
import { agentSuite } from './suite.js';

agentSuite('claude', /^\/v1\/messages/);
