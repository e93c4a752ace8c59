// GitHub Copilot CLI headless through wiretrail: the Responses API on api.individual.githubcopilot.com.
import { agentSuite } from './suite.js';

agentSuite('copilot', /^\/responses/);
