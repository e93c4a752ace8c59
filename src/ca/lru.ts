// A small LRU map: Map keeps insertion order, so a hit is moved to the end and the oldest key is first.
export class Lru<K, V> {
  readonly #map = new Map<K, V>();
  constructor(readonly max: number) {
    if (!(Number.isInteger(max) && max > 0)) throw new RangeError('LRU size must be a positive integer');
  }
  get size(): number {
    return this.#map.size;
  }
  get(key: K): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }
  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    while (this.#map.size > this.max) {
      const oldest = this.#map.keys().next();
      if (oldest.done) break;
      this.#map.delete(oldest.value);
    }
  }
  delete(key: K): void {
    this.#map.delete(key);
  }
}
