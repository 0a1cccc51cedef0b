import { z } from "zod";
import type { BlobStore } from "./blob-store.ts";
import type { Clock } from "../clock.ts";
import { DAY_MS } from "../day.ts";
import { issueSchema, type Issue } from "../issue.ts";
import { log } from "../log.ts";
import { mapLimit } from "./map-limit.ts";

const PREFIX = "quarantine/";
/** Values are set aside under their spool entry's key, so by the minute the entry was accepted. */
const FOLDERS_PREFIX = `${PREFIX}pending/`;
/** What was set aside is kept this long, for a maintainer to look at, then expires. */
const KEEP_MS = 30 * DAY_MS;
/** The count as last taken, shared by every instance (see recentCount). */
const COUNT_KEY = "summary/quarantine";
/** Keys a page lists at least, unless fewer are left: a page is whole minute folders. */
const PAGE_KEYS = 100;
const CONCURRENCY = 8;
/** Values one expiry run reads at most: a minute's housekeeping stays small, whatever the backlog. */
const EXPIRY_READS = 200;
/** `quarantine/pending/<minute>/<accepted ms>-<count>-<uuid>`, then `/<event_id or index>` for one event of it. */
const KEY = /^quarantine\/pending\/\d+\/(\d+)-\d+-[0-9a-f-]+(\/[^/]+)?$/;

const setAsideSchema = z.object({
  value: z.unknown(),
  issues: z.array(issueSchema),
  /** When it was set aside (epoch ms). Kept since quarantine expires; before that, the entry key's time stands in. */
  set_aside_at: z.number().optional(),
});

type SetAside = z.output<typeof setAsideSchema>;

const countSchema = z.object({ count: z.number().int().nonnegative(), counted_at: z.number() });

/** One event kept in quarantine/: a single event, or one of an entry set aside whole. */
export interface QuarantinedEvent {
  key: string;
  event: Record<string, unknown>;
  issues: Issue[];
  /** When it was set aside (epoch ms). */
  set_aside_at: number;
}

/**
 * What the flusher could not store, kept in the spool's store for a maintainer: an event GitHub's
 * push protection refuses (`quarantine/<entry key>/<event_id>`), an event that cannot be stored
 * (`…/<index>`), an entry that is no record (`quarantine/<entry key>`). It holds whole events, the
 * install id (as stored) and a detected secret included: so it answers erasure and export like
 * the repository, and expires after 30 days.
 */
export class Quarantine {
  constructor(
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
  ) {}

  /** Keeps `value` under `key` (a spool entry's key, or one of its events), with why and when. */
  async setAside(key: string, value: unknown, issues: readonly Issue[]): Promise<void> {
    await this.blobs.setJSON(`${PREFIX}${key}`, { value, issues, set_aside_at: this.clock.now() });
    log("error", "spool_quarantined", { key, issues });
  }

  /**
   * The keys of the minute folders after `after`, oldest first, whole folders until at least
   * PAGE_KEYS; `next` is where the following page starts, none at the end.
   */
  async page(after?: string): Promise<{ keys: string[]; next: string | undefined }> {
    const folders = (await this.folders()).filter((folder) => after === undefined || folder > after);
    const keys: string[] = [];
    let taken = 0;
    while (taken < folders.length && keys.length < PAGE_KEYS) {
      const { blobs } = await this.blobs.list({ prefix: folders[taken]! });
      keys.push(...blobs.map(({ key }) => key).sort());
      taken += 1;
    }
    return { keys, next: taken < folders.length ? folders[taken - 1] : undefined };
  }

  /** The events whose `hwid` is one of `forms`, as stored (hashed in hash mode, with any older form), oldest first. */
  async eventsOf(forms: readonly string[]): Promise<QuarantinedEvent[]> {
    const wanted = new Set(forms);
    const found: QuarantinedEvent[] = [];
    await this.eachPage(async (key, kept) => {
      for (const event of eventsIn(key, kept.value)) {
        if (wanted.has(event.hwid as string)) {
          found.push({ key, event, issues: kept.issues, set_aside_at: datedOf(key, kept) });
        }
      }
    });
    return found;
  }

  /**
   * Writes each event of `forms` as a line of its own, marked as quarantined, with why and when it
   * was set aside (`{"quarantined":true,"set_aside_at":…,"issues":[…],"event":{…}}`); how many.
   */
  async writeEventsOf(forms: readonly string[], write: (line: string) => Promise<void> | void): Promise<number> {
    const found = await this.eventsOf(forms);
    for (const { event, issues, set_aside_at: setAsideAt } of found) {
      const line = { quarantined: true, set_aside_at: new Date(setAsideAt).toISOString(), issues, event };
      await write(`${JSON.stringify(line)}\n`);
    }
    return found.length;
  }

  /** Removes the events whose `hwid` is one of `forms` (an entry set aside whole loses only those); how many. */
  async removeEventsOf(forms: readonly string[]): Promise<number> {
    const wanted = new Set(forms);
    let removed = 0;
    await this.eachPage(async (key, kept) => {
      const events = eventsIn(key, kept.value);
      const left = events.filter((event) => !wanted.has(event.hwid as string));
      if (left.length === events.length) return;
      removed += events.length - left.length;
      if (left.length === 0 || isEventKey(key)) await this.blobs.delete(key);
      else {
        const value = { ...(kept.value as object), events: left };
        await this.blobs.setJSON(key, { ...kept, value, set_aside_at: datedOf(key, kept) });
      }
    });
    return removed;
  }

  /**
   * Removes what was set aside more than 30 days ago, reading at most `maxReads` values: only
   * folders of entries accepted before then can hold any (an entry is set aside after it was
   * accepted), oldest first. How many it removed.
   */
  async expire(maxReads = EXPIRY_READS): Promise<number> {
    const cutoff = this.clock.now() - KEEP_MS;
    let reads = 0;
    let removed = 0;
    for (const folder of await this.folders()) {
      if (reads >= maxReads) break;
      const { blobs } = await this.blobs.list({ prefix: folder });
      const candidates = blobs
        .map(({ key }) => key)
        .filter((key) => acceptedAt(key) < cutoff)
        .sort()
        .slice(0, maxReads - reads);
      if (candidates.length === 0) break;
      reads += candidates.length;
      await mapLimit(candidates, CONCURRENCY, async (key) => {
        const kept = await this.read(key);
        if (kept === undefined || datedOf(key, kept) >= cutoff) return;
        await this.blobs.delete(key);
        removed += 1;
      });
    }
    if (removed > 0) log("info", "quarantine_expired", { removed });
    return removed;
  }

  /**
   * How many values wait (an event each, or an entry set aside whole), as counted at `notBefore`
   * or later by any instance; counted anew (one listing) only when no such count is kept.
   */
  async recentCount(notBefore: number): Promise<number> {
    const kept = countSchema.safeParse(await this.blobs.get(COUNT_KEY, { type: "json" }));
    if (kept.success && kept.data.counted_at >= notBefore) return kept.data.count;
    const countedAt = this.clock.now();
    const { blobs } = await this.blobs.list({ prefix: PREFIX });
    await this.blobs.setJSON(COUNT_KEY, { count: blobs.length, counted_at: countedAt });
    return blobs.length;
  }

  private async folders(): Promise<string[]> {
    const { directories = [] } = await this.blobs.list({ prefix: FOLDERS_PREFIX, directories: true });
    return directories.map((name) => name.replace(/\/?$/, "/")).sort();
  }

  private async read(key: string): Promise<SetAside | undefined> {
    const value = await this.blobs.get(key, { type: "json" });
    if (value === null || value === undefined) return undefined;
    const parsed = setAsideSchema.safeParse(value);
    return parsed.success ? parsed.data : { value, issues: [] };
  }

  /** `work` on every value kept, page by page, in order. */
  private async eachPage(work: (key: string, kept: SetAside) => Promise<void>): Promise<void> {
    let after: string | undefined;
    do {
      const page = await this.page(after);
      const values = await mapLimit(page.keys, CONCURRENCY, (key) => this.read(key));
      for (const [index, key] of page.keys.entries()) {
        const kept = values[index];
        if (kept !== undefined) await work(key, kept);
      }
      after = page.next;
    } while (after !== undefined);
  }
}

function isEventKey(key: string): boolean {
  return KEY.exec(key)?.[2] !== undefined;
}

/** When the entry was accepted, by its key; unknown keys count as new (never expired by date). */
function acceptedAt(key: string): number {
  const match = KEY.exec(key);
  return match ? Number(match[1]) : Number.POSITIVE_INFINITY;
}

function datedOf(key: string, kept: SetAside): number {
  return kept.set_aside_at ?? acceptedAt(key);
}

/** The events a value holds: itself for an event's key, its `events` for an entry set aside whole. */
function eventsIn(key: string, value: unknown): Record<string, unknown>[] {
  const candidates = isEventKey(key) ? [value] : ((value as { events?: unknown } | null)?.events ?? []);
  if (!Array.isArray(candidates)) return [];
  return candidates.filter((event): event is Record<string, unknown> => typeof event === "object" && event !== null);
}
