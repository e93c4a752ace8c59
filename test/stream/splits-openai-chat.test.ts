import t from 'tap';
import { fixtureSuite } from './fixture-suite.js';

await fixtureSuite(t, ['openai-chat.sse', 'sse-edge-cases.sse', 'gemini.sse', 'anthropic-messages.sse']);
