import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { StoredEvent } from "../../lib/events/stored-event.ts";

/**
 * The files the service would have written for `events`: each day in its folder, split into
 * `parts` parts (`telemetry/YYYY/MM/DD/0001.ndjson`, ...), or for the days in `oldLayout` as the
 * layout before day folders wrote them (`telemetry/YYYY/MM/DD.ndjson`).
 */
export function dayFiles(
  events: readonly StoredEvent[],
  { parts = 2, oldLayout = [] as string[] } = {},
): Map<string, string> {
  const byDay = new Map<string, StoredEvent[]>();
  for (const event of events) {
    const day = event.created_at.slice(0, 10);
    byDay.set(day, [...(byDay.get(day) ?? []), event]);
  }
  const files = new Map<string, string>();
  for (const [day, dayEvents] of byDay) {
    const [year, month, date] = day.split("-");
    if (oldLayout.includes(day)) {
      files.set(`telemetry/${year}/${month}/${date}.ndjson`, lines(dayEvents));
      continue;
    }
    const size = Math.ceil(dayEvents.length / parts);
    for (let part = 0; part * size < dayEvents.length; part += 1) {
      const name = `${String(part + 1).padStart(4, "0")}.ndjson`;
      files.set(`telemetry/${year}/${month}/${date}/${name}`, lines(dayEvents.slice(part * size, (part + 1) * size)));
    }
  }
  return files;
}

export function lines(events: readonly StoredEvent[]): string {
  return events.map((event) => `${JSON.stringify(event)}\n`).join("");
}

/** A fresh temp folder holding `files` (path → content). */
export async function dataFolder(files: Map<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "telemetry-data-"));
  for (const [path, content] of files) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}
