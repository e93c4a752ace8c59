import { everySplit } from './every-split.js';

everySplit(['github-copilot-chat.sse', 'anthropic-messages.sse', 'anthropic-tool-use.sse', 'anthropic-error.sse', 'sse-edge-cases.sse']);
