import { z } from "zod";
import { scrubMetadata } from "../../events/scrub-metadata.ts";
import { fingerprintError } from "../fingerprint-error.ts";
import { InstallSet } from "../install-set.ts";
import { versionOrder } from "./app-versions.ts";
import { countLine, decodeInstalls, encodeInstalls, sortedBreakdowns, type Breakdown } from "./breakdown.ts";
import { estimate, keyedInstall, keyOrder, lines, installSet, type Figure, type TallyLine } from "./figure.ts";

/** A sample traceback keeps its last lines: the innermost frames and the exception. */
const SAMPLE_TRACEBACK_LINES = 30;
const SAMPLE_MESSAGE_CHARS = 2000;
/** Samples kept a group, from as many installs: an erased install's gives way to the next one's. */
const SAMPLES_KEPT = 3;

const sampleSchema = z.object({
  install: z.string().describe("The install it came from, as a keyed hash (an erasure forgets its samples)"),
  at: z.iso.datetime({ precision: 3 }),
  message: z.string().describe("The occurrence's message, as stored (scrubbed at ingest, and again)"),
  traceback: z.string().nullable().describe("The occurrence's traceback, cut to its last lines"),
});

/** One occurrence kept as a sample of its group. */
type ErrorSample = z.output<typeof sampleSchema>;

const schema = z.object({
  errors: z.array(
    z.object({
      fingerprint: z
        .string()
        .describe("The client's error_hash, else one derived from type, top in-app frame and masked message"),
      exception_type: z.string(),
      samples: z
        .array(sampleSchema)
        .max(SAMPLES_KEPT)
        .describe("The earliest occurrence of each of the first installs, earliest first"),
      received: lines,
      estimated: estimate,
      installs: installSet,
      first_seen: z.iso.datetime({ precision: 3 }),
      last_seen: z.iso.datetime({ precision: 3 }),
      versions: z.array(z.string()).describe("App versions that reported it, in version order"),
      first_version: z
        .string()
        .nullable()
        .describe("The app version of the earliest occurrence (null: unknown, a day of rollup format 2)"),
    }),
  ),
});

type Encoded = z.output<typeof schema>;

interface ErrorFigures extends Breakdown {
  exception_type: string;
  samples: ErrorSample[];
  first_seen: string;
  last_seen: string;
  versions: Set<string>;
  first_version: string | null;
}

/** Error groups by fingerprint: occurrences, installs, first and last seen, versions, and the earliest occurrences as samples. */
export class ErrorGroups implements Figure<Encoded> {
  static readonly shape = schema.shape;
  private readonly errors = new Map<string, ErrorFigures>();

  add(line: TallyLine): void {
    const { event } = line;
    const occurrence = fingerprintError(event);
    if (!occurrence) return;
    const at = event.created_at;
    let figures = this.errors.get(occurrence.fingerprint);
    if (!figures) {
      figures = {
        received: 0,
        estimated: 0,
        installs: new InstallSet(),
        exception_type: occurrence.exceptionType,
        samples: [],
        first_seen: at,
        last_seen: at,
        versions: new Set(),
        first_version: event.app_version,
      };
      this.errors.set(occurrence.fingerprint, figures);
    }
    const { samples } = figures;
    if (samples.length < SAMPLES_KEPT || at < samples.at(-1)!.at) {
      const sample = scrubMetadata({
        message: occurrence.message.slice(0, SAMPLE_MESSAGE_CHARS),
        traceback: lastLines(event.metadata.traceback),
      }).metadata;
      figures.samples = keptSamples(samples, [
        {
          install: keyedInstall(line.installKey, event.hwid),
          at,
          message: String(sample.message),
          traceback: typeof sample.traceback === "string" ? sample.traceback : null,
        },
      ]);
    }
    countLine(figures, line);
    earliest(figures, at, event.app_version);
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
      // The samples are the earliest occurrences', whichever order the days are merged in.
      ours.samples = keptSamples(ours.samples, theirs.samples);
      earliest(ours, theirs.first_seen, theirs.first_version);
      if (theirs.last_seen > ours.last_seen) ours.last_seen = theirs.last_seen;
    }
  }

  /** Most frequent first, each with its versions in version order and its earliest sample's message and traceback. */
  figures() {
    return sortedBreakdowns(this.errors, (fingerprint, f) => ({
      fingerprint,
      ...f,
      message: f.samples[0]?.message ?? "",
      traceback: f.samples[0]?.traceback ?? null,
      versions: [...f.versions].sort(versionOrder),
    }));
  }

  encode(): Encoded {
    return {
      errors: this.figures().map(({ message: _, traceback: __, ...f }) => encodeInstalls(f)),
    };
  }

  static decode({ errors }: Encoded): ErrorGroups {
    const figure = new ErrorGroups();
    for (const { fingerprint, ...f } of errors) {
      figure.errors.set(fingerprint, { ...decodeInstalls(f), versions: new Set(f.versions) });
    }
    return figure;
  }
}

/** Keeps the earlier of two first occurrences; at the same instant, the known and lower version, so that merging in any order agrees. */
function earliest(figures: ErrorFigures, at: string, version: string | null): void {
  const lower =
    version !== null && (figures.first_version === null || versionOrder(version, figures.first_version) < 0);
  if (at < figures.first_seen || (at === figures.first_seen && lower)) {
    figures.first_seen = at;
    figures.first_version = version;
  }
}

/** The earliest sample of each install among `ours` and `theirs`, earliest first, as many as are kept. */
function keptSamples(ours: readonly ErrorSample[], theirs: readonly ErrorSample[]): ErrorSample[] {
  const earliest = new Map<string, ErrorSample>();
  for (const sample of [...ours, ...theirs]) {
    const kept = earliest.get(sample.install);
    if (!kept || sample.at < kept.at) earliest.set(sample.install, sample);
  }
  return [...earliest.values()]
    .sort((a, b) => keyOrder(a.at, b.at) || keyOrder(a.install, b.install))
    .slice(0, SAMPLES_KEPT);
}

function lastLines(traceback: unknown): string | null {
  if (typeof traceback !== "string" || traceback === "") return null;
  return traceback.split(/\r?\n/).slice(-SAMPLE_TRACEBACK_LINES).join("\n");
}
