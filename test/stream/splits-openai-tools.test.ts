import t from 'tap';
import { fixtureSuite } from './fixture-suite.js';

await fixtureSuite(t, ['openai-chat-tools.sse', 'anthropic-tool-use.sse', 'anthropic-error.sse']);
