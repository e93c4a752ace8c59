import { everySplit } from './every-split.js';

everySplit(['azure-openai-chat.sse'], { index: 1, of: 2 });
