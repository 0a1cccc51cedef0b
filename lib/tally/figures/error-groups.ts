import { z } from "zod";
import { scrubMetadata } from "../../events/scrub-metadata.ts";
import { fingerprintError } from "../fingerprint-error.ts";
import { BREAKDOWN_PRECISION, HyperLogLog } from "../hyper-log-log.ts";
import { versionOrder } from "./app-versions.ts";
import { countLine, decodeInstalls, encodeInstalls, sortedBreakdowns, type Breakdown } from "./breakdown.ts";
import { estimate, lines, sketch, type Figure, type TallyLine } from "./figure.ts";

/** A sample traceback keeps its last lines: the innermost frames and the exception. */
const SAMPLE_TRACEBACK_LINES = 30;
const SAMPLE_MESSAGE_CHARS = 2000;

const schema = z.object({
  errors: z.array(
    z.object({
      fingerprint: z
        .string()
        .describe("The client's error_hash, else one derived from type, top in-app frame and masked message"),
      exception_type: z.string(),
      message: z.string().describe("One occurrence's message, as stored (scrubbed at ingest)"),
      traceback: z.string().nullable().describe("One occurrence's traceback, cut to its last lines"),
      received: lines,
      estimated: estimate,
      installs: sketch,
      first_seen: z.iso.datetime({ precision: 3 }),
      last_seen: z.iso.datetime({ precision: 3 }),
      versions: z.array(z.string()).describe("App versions that reported it, in version order"),
    }),
  ),
});

type Encoded = z.output<typeof schema>;

interface ErrorFigures extends Breakdown {
  exception_type: string;
  message: string;
  traceback: string | null;
  first_seen: string;
  last_seen: string;
  versions: Set<string>;
}

/** Error groups by fingerprint: occurrences, installs, first and last seen, versions, and the earliest occurrence as a sample. */
export class ErrorGroups implements Figure<Encoded> {
  static readonly shape = schema.shape;
  private readonly errors = new Map<string, ErrorFigures>();

  add(line: TallyLine): void {
    const { event } = line;
    const occurrence = fingerprintError(event);
    if (!occurrence) return;
    const at = event.created_at;
    let figures = this.errors.get(occurrence.fingerprint);
    if (!figures || at < figures.first_seen) {
      const sample = scrubMetadata({
        message: occurrence.message.slice(0, SAMPLE_MESSAGE_CHARS),
        traceback: lastLines(event.metadata.traceback),
      }).metadata;
      figures ??= {
        received: 0,
        estimated: 0,
        installs: new HyperLogLog(BREAKDOWN_PRECISION),
        exception_type: occurrence.exceptionType,
        message: "",
        traceback: null,
        first_seen: at,
        last_seen: at,
        versions: new Set(),
      };
      figures.message = String(sample.message);
      figures.traceback = typeof sample.traceback === "string" ? sample.traceback : null;
      figures.first_seen = at;
      this.errors.set(occurrence.fingerprint, figures);
    }
    countLine(figures, line);
    if (at > figures.last_seen) figures.last_seen = at;
    figures.versions.add(event.app_version);
  }

  merge(other: ErrorGroups): void {
    for (const [key, theirs] of other.errors) {
      const ours = this.errors.get(key);
      if (!ours) {
        this.errors.set(key, { ...theirs, installs: theirs.installs.copy(), versions: new Set(theirs.versions) });
        continue;
      }
      ours.received += theirs.received;
      ours.estimated += theirs.estimated;
      ours.installs.merge(theirs.installs);
      theirs.versions.forEach((v) => ours.versions.add(v));
      // The sample is the earliest occurrence's, whichever order the days are merged in.
      if (theirs.first_seen < ours.first_seen) {
        Object.assign(ours, { first_seen: theirs.first_seen, message: theirs.message, traceback: theirs.traceback });
      }
      if (theirs.last_seen > ours.last_seen) ours.last_seen = theirs.last_seen;
    }
  }

  /** Most frequent first, each with its versions in version order. */
  figures() {
    return sortedBreakdowns(this.errors, (fingerprint, f) => ({
      fingerprint,
      ...f,
      versions: [...f.versions].sort(versionOrder),
    }));
  }

  encode(): Encoded {
    return { errors: this.figures().map(encodeInstalls) };
  }

  static decode({ errors }: Encoded): ErrorGroups {
    const figure = new ErrorGroups();
    for (const { fingerprint, ...f } of errors) {
      figure.errors.set(fingerprint, { ...decodeInstalls(f), versions: new Set(f.versions) });
    }
    return figure;
  }
}

function lastLines(traceback: unknown): string | null {
  if (typeof traceback !== "string" || traceback === "") return null;
  return traceback.split(/\r?\n/).slice(-SAMPLE_TRACEBACK_LINES).join("\n");
}
