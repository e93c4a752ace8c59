import t from 'tap';
import { fixtureSuite } from './fixture-suite.js';

await fixtureSuite(t, ['openai-chat.sse', 'openai-chat-tools.sse', 'openai-responses.sse', 'sse-edge-cases.sse']);
