// Issue 10 targets on the independent corpus, shard 2 of the positives: worst-case recall over
// every cut inside every secret in five SSE flavours ≥ 0.99 overall and ≥ 0.95 per type, the
// whole token masked (no 6-character run, no identifying prefix left). See independent/shard.ts.
import t from 'tap';
import { positivesShard } from './independent/shard.js';

positivesShard(t, 2);
