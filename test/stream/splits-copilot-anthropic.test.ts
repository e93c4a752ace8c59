import t from 'tap';
import { fixtureSuite } from './fixture-suite.js';

await fixtureSuite(t, ['github-copilot-chat.sse', 'anthropic-messages.sse', 'anthropic-tool-use.sse']);
