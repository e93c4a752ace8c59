import t from 'tap';
import { fixtureSuite } from './fixture-suite.js';

await fixtureSuite(t, ['openai-responses.sse', 'ollama-chat.ndjson']);
