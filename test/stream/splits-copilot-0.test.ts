import t from 'tap';
import { fixtureSuite } from './fixture-suite.js';

await fixtureSuite(t, ['github-copilot-chat.sse'], { index: 0, of: 2 });
