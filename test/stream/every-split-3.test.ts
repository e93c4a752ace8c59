import { everySplit } from './every-split.js';

everySplit(['openai-responses.sse', 'openai-chat-tools.sse', 'ollama-chat.ndjson']);
