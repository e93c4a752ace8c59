// Hot-path aggregators: an event costs a few plain-number updates here, and prom-client reads the totals only
// when Prometheus scrapes. Measured (bench/metrics.ts) prom-client's own `inc(labels)` / `observe(v)` cost
// 0.4–1.2 µs per event, mostly hashing the label object and validating it on every call; the budget
// is 1 µs for the whole report, so the per-event work moved here and the exposition stays prom-client's.
import { Counter, Gauge, type Metric, type Registry } from 'prom-client';

type Key = string | number;

/** One node of the tree of label values (one level per label); leaves hold a running total. */
interface Node {
  /** The label values on the way here ("other" where a level was full). */
  readonly path: readonly string[];
  readonly kids: Map<Key, Node>;
  n: number;
}

/**
 * A labelled counter with one to three labels: `inc(a, b, c)` walks one Map per label (keys are interned
 * strings or small numbers, so each lookup is cheap and allocates nothing) and adds 1 to a plain number.
 * Each level keeps at most `maxValues` distinct values per parent; later ones count under "other"
 * (tunnelled hosts are unbounded).
 */
export class LocalCounter {
  private readonly root: Node = { path: [], kids: new Map(), n: 0 };
  private readonly leaves: Node[] = [];
  private readonly depth: number;

  constructor(
    registry: Registry,
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly maxValues: number,
  ) {
    if (labelNames.length < 1 || labelNames.length > 3) throw new Error(`${name}: a local counter takes one to three labels`);
    this.depth = labelNames.length;
    const leaves = this.leaves;
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      // The local totals are the truth; prom-client's copy is rebuilt from them at each scrape.
      collect() {
        this.reset();
        for (const leaf of leaves) this.inc(Object.fromEntries(labelNames.map((l, i) => [l, leaf.path[i]!])), leaf.n);
      },
    });
  }

  inc(a: Key, b?: Key, c?: Key): void {
    let node = this.child(this.root, a);
    if (this.depth > 1) node = this.child(node, b!);
    if (this.depth > 2) node = this.child(node, c!);
    node.n++;
  }

  private child(node: Node, key: Key): Node {
    return node.kids.get(key) ?? this.add(node, key);
  }

  private add(node: Node, key: Key): Node {
    if (node.kids.size >= this.maxValues) {
      const other = node.kids.get('other');
      if (other) return other;
      key = 'other';
    }
    const kid: Node = { path: [...node.path, String(key)], kids: new Map(), n: 0 };
    node.kids.set(key, kid);
    if (kid.path.length === this.depth) this.leaves.push(kid);
    return kid;
  }
}

/** A gauge held as a plain number; prom-client reads it at scrape. */
export class LocalGauge {
  value = 0;

  constructor(registry: Registry, name: string, help: string) {
    const self = this;
    new Gauge({ name, help, registers: [registry], collect() { this.set(self.value); } });
  }
}

/**
 * An unlabelled histogram: `observe(v)` finds the bucket with a short scan over a Float64Array and adds 1 to
 * a typed-array count. It is registered as its own metric (prom-client's Histogram has no way to take bucket
 * counts in bulk) and returns from `get()` the exact shape prom-client's Histogram does, so the registry
 * writes it the same way (cumulative `_bucket{le}`, `+Inf`, `_sum`, `_count`).
 */
export class LocalHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly bounds: Float64Array;
  /** counts[i]: observations in (bounds[i-1], bounds[i]]; the last slot is above every bound. */
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(
    registry: Registry,
    readonly name: string,
    readonly help: string,
    buckets: readonly number[],
  ) {
    this.bounds = Float64Array.from([...buckets].sort((a, b) => a - b));
    this.counts = new Float64Array(this.bounds.length + 1);
    registry.registerMetric(this as unknown as Metric);
  }

  observe(v: number): void {
    if (!Number.isFinite(v)) return; // prom-client throws here; a bad timing must not break the hot path
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }

  async get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string; exemplar?: null }[] = [];
    let acc = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      acc += this.counts[i]!;
      values.push({ labels: { le: this.bounds[i]! }, value: acc, metricName: `${this.name}_bucket`, exemplar: null });
    }
    values.push(
      { labels: { le: '+Inf' }, value: this.count, metricName: `${this.name}_bucket`, exemplar: null },
      { labels: {}, value: this.sum, metricName: `${this.name}_sum` },
      { labels: {}, value: this.count, metricName: `${this.name}_count` },
    );
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}
