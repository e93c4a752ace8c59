import { everySplit } from './every-split.js';

everySplit(['openai-responses.sse', 'ollama-chat.ndjson']);
