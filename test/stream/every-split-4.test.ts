import { everySplit } from './every-split.js';

everySplit(['openai-chat.sse', 'openai-chat-tools.sse', 'gemini.sse']);
