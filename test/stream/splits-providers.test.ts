import t from 'tap';
import { fixtureSuite } from './fixture-suite.js';

await fixtureSuite(t, ['azure-openai-chat.sse', 'github-copilot-chat.sse', 'anthropic-messages.sse', 'anthropic-tool-use.sse', 'anthropic-error.sse', 'gemini.sse', 'ollama-chat.ndjson']);
