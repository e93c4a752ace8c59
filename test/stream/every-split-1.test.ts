import { everySplit } from './every-split.js';

everySplit(['azure-openai-chat.sse'], { index: 0, of: 2 });
