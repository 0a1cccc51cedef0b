/**
 * The reads under way, by their bytes: what the page shows as "reading N MB" while it waits for an answer.
 */
export class ReadProgress {
  private readonly reads = new Set<{ bytes: number }>();

  async during<T>(bytes: number, read: () => Promise<T>): Promise<T> {
    const entry = { bytes };
    this.reads.add(entry);
    try {
      return await read();
    } finally {
      this.reads.delete(entry);
    }
  }

  /** Bytes being read now, 0 when nothing is. */
  get bytes(): number {
    return [...this.reads].reduce((sum, read) => sum + read.bytes, 0);
  }
}
