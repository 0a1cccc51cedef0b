/**
 * The part of a Netlify Blobs store the spool uses. `@netlify/blobs`' `Store` has this shape; the
 * core depends on the shape only, so that it runs against any implementation of it.
 */
export interface BlobStore {
  get(key: string, options: { type: "json" }): Promise<unknown>;
  setJSON(
    key: string,
    value: unknown,
    options?: { onlyIfNew?: boolean; onlyIfMatch?: string },
  ): Promise<{ modified: boolean; etag?: string }>;
  delete(key: string): Promise<void>;
  /** Entries under `prefix` with their etags (the one read that gives an etag on every implementation, the local sandbox included). */
  list(options: {
    prefix: string;
    directories?: boolean;
  }): Promise<{ blobs: { key: string; etag: string }[]; directories?: string[] }>;
}
