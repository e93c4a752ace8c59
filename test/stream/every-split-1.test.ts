import { everySplit } from './every-split.js';

everySplit(['azure-openai-chat.sse', 'openai-chat.sse', 'gemini.sse']);
