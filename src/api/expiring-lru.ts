/**
 * A cache of at most `capacity` entries, each kept `ttlMs` after it was set: when
 * full, the least recently used entry makes room. Reading an entry does not extend
 * its life, so whatever it stands for is looked up again within `ttlMs`.
 */
export class ExpiringLru<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();

  constructor(
    private readonly capacity: number,
    private readonly ttlMs: number,
  ) {}

  /** The entry under `key`, or undefined when there is none or it has expired. */
  get(key: string, now: number): { value: V } | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expires <= now) return undefined;
    // A Map iterates in insertion order: re-inserting makes this the most recently used.
    this.entries.set(key, entry);
    return { value: entry.value };
  }

  set(key: string, value: V, now: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expires: now + this.ttlMs });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }
}
