import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { Clock } from "../clock.ts";
import type { BlobStore } from "../spool/blob-store.ts";

const MARKER_KEY = "erasure/run";
/** A run that died keeps others out until its deadline and this much more. */
const GRACE_MS = 60_000;

const markerSchema = z.object({
  holder: z.string().nullable().catch(null),
  /** Epoch ms after which a holder that did not release counts as gone. */
  expires_at: z.number().catch(0),
  /** When a request last started a run (epoch ms). */
  woken_at: z.number().catch(0),
});
type Marker = z.output<typeof markerSchema>;

/**
 * At most one erasure run at a time, and requests coalesced: one blob, written only with a
 * condition on its etag (as the flusher's lease), says who runs until when and when a request
 * last started a run. A second invocation finds it held and does nothing; a thousand requests
 * start one run each `everyMs` at most.
 */
export class ErasureMarker {
  private readonly holder = randomUUID();

  constructor(
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
  ) {}

  /** Takes the marker until `deadline` (plus a grace), unless a live run holds it. */
  async claim(deadline: number): Promise<boolean> {
    const { marker, etag } = await this.read();
    if (marker.holder !== null && marker.expires_at > this.clock.now()) return false;
    const written = await this.write({ ...marker, holder: this.holder, expires_at: deadline + GRACE_MS }, etag);
    if (!written) return false;
    // As the lease: a local sandbox's conditional write is two steps; reading back narrows the race.
    return (await this.read()).marker.holder === this.holder;
  }

  async release(): Promise<void> {
    const { marker, etag } = await this.read();
    if (marker.holder === this.holder) await this.write({ ...marker, holder: null, expires_at: 0 }, etag);
  }

  /** Whether a request may start a run now: none runs, and none was started in the last `everyMs`. */
  async wakes(everyMs: number): Promise<boolean> {
    const { marker, etag } = await this.read();
    const now = this.clock.now();
    if ((marker.holder !== null && marker.expires_at > now) || marker.woken_at > now - everyMs) return false;
    return this.write({ ...marker, woken_at: now }, etag);
  }

  private async read(): Promise<{ marker: Marker; etag: string | undefined }> {
    const { blobs } = await this.blobs.list({ prefix: MARKER_KEY });
    const etag = blobs.find((blob) => blob.key === MARKER_KEY)?.etag;
    const value = etag ? await this.blobs.get(MARKER_KEY, { type: "json" }) : undefined;
    return { marker: markerSchema.parse(value ?? {}), etag };
  }

  private async write(marker: Marker, etag: string | undefined): Promise<boolean> {
    const written = etag
      ? await this.blobs.setJSON(MARKER_KEY, marker, { onlyIfMatch: etag })
      : await this.blobs.setJSON(MARKER_KEY, marker, { onlyIfNew: true });
    return written.modified;
  }
}
