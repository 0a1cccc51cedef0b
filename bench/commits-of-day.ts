import { HOUR_MS } from "../lib/clock.ts";
import { DAY_MS } from "../lib/day.ts";
import type { WriteLimits } from "../lib/config.ts";
import { nextWriteAt } from "../lib/spool/write-pacer.ts";
import { syntheticLines } from "./read-path.ts";

const MAX_FILE_BYTES = 1024 * 1024;
/** The flusher's default pace (TELEMETRY_WRITES_PER_MINUTE / _PER_HOUR). */
const LIMITS: WriteLimits = { perMinute: 60, perHour: 400 };

/** One commit the flusher makes: the part it rewrites, whole. */
interface DayCommit {
  at: number;
  part: number;
  events: number;
  content: Buffer;
}

/**
 * The flusher's commits over a `day` of `events`: events arrive evenly over the day; at each turn
 * the pacer gives (the first 10 of an hour a second apart, then one every 9 s), a commit takes
 * every event waiting, in order, as far as the newest part holds them, and starts the next part
 * when the first does not fit (as planAppend does). A turn with nothing waiting passes until the
 * next event arrives.
 *
 * A part's buffer is only ever appended to past what earlier commits hold, and a new part gets a
 * new buffer, so each commit's `content` stays as it was when yielded.
 */
export function* commitsOfDay(day: string, events: number): Generator<DayCommit> {
  const arrival = (i: number) => Math.floor((i * DAY_MS) / events);
  const lines = syntheticLines(day, events);
  let line = lines.next();
  let next = 0;
  let now = 0;
  let log: number[] = [];
  let part = 1;
  let buffer = Buffer.alloc(MAX_FILE_BYTES);
  let size = 0;
  while (!line.done) {
    const at = nextWriteAt(log, now, LIMITS);
    if (arrival(next) > at) {
      now = arrival(next);
      continue;
    }
    let count = 0;
    while (!line.done && arrival(next) <= at) {
      const length = line.value.length;
      if (size > 0 && size + length > MAX_FILE_BYTES) {
        if (count > 0) break;
        part += 1;
        buffer = Buffer.alloc(MAX_FILE_BYTES);
        size = 0;
      }
      if (size + length > buffer.length) buffer = Buffer.concat([buffer.subarray(0, size), Buffer.alloc(length)]);
      size += buffer.write(line.value, size, "latin1");
      count += 1;
      next += 1;
      line = lines.next();
    }
    log.push(at);
    log = log.filter((write) => write > at - HOUR_MS);
    now = at;
    yield { at, part, events: count, content: buffer.subarray(0, size) };
  }
}
