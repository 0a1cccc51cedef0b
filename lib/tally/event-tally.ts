import type { StoredEvent } from "../events/stored-event.ts";
import { ROLLUP_VERSION, type DayRollup } from "./day-rollup.ts";
import { decodeFigures, encodeFigures, figureList, newFigures, type TallyFigures } from "./figures.ts";
import type { TallyLine } from "./figures/figure.ts";
import { installHash } from "./install-set.ts";
import { IngestFigures } from "./ingest-figures.ts";

/** Client types of test runs: stored when not dropped at ingest, left out of every figure. */
const TEST_CLIENT_TYPES = new Set(["unit-tests"]);
/** The install key of a tally given none (a local report): samples are named by a hash anyone can recompute. */
const LOCAL_INSTALL_KEY = "telemetry-local-install-key";

export interface TallyOptions {
  /** The key of the keyed hash that names the install a kept sample came from (see keyedInstall). */
  installKey?: string;
}

/**
 * The figures of a set of events (a day, or a period of days merged), counted as they are read:
 * the one aggregation behind the rollups, the dashboard and `telemetry report`. It is written to a
 * rollup and read back without loss (sketches included), so that a day read in several runs, or a
 * month made of days, gives the figures one pass over all the events would. Each figure is a unit
 * of its own (figures/); the tally hands every line of a real client to each of them.
 */
export class EventTally {
  /** The figures in the list's order, each handed every line. */
  private readonly list: ReturnType<typeof figureList>;

  readonly ingest: IngestFigures;
  readonly figures: TallyFigures;
  private readonly installKey: string;

  constructor({
    installKey = LOCAL_INSTALL_KEY,
    ingest = new IngestFigures(),
    figures = newFigures(),
  }: TallyOptions & { ingest?: IngestFigures; figures?: TallyFigures } = {}) {
    this.installKey = installKey;
    this.ingest = ingest;
    this.figures = figures;
    this.list = figureList(figures);
  }

  /** Counts one stored line (the reader checked its shape). */
  add(event: StoredEvent): void {
    this.ingest.lines += 1;
    if (TEST_CLIENT_TYPES.has(event.client_type)) {
      this.ingest.test_events += 1;
      return;
    }
    const line: TallyLine = {
      event,
      weight: weightOf(event.metadata.sampling_rate),
      hash: installHash(event.hwid),
      installKey: this.installKey,
    };
    for (const figure of this.list) figure.add(line);
  }

  /** Adds `other`'s figures to these: the tally of both sets of events. */
  merge(other: EventTally): void {
    this.ingest.merge(other.ingest);
    this.list.forEach((figure, i) => figure.merge(other.list[i]!));
  }

  get installs() {
    return this.figures.totals.installs;
  }

  get received() {
    return this.figures.totals.received;
  }

  get estimated() {
    return this.figures.totals.estimated;
  }

  get sessions() {
    return this.figures.sessions;
  }

  /** The figures by event name, most frequent first. */
  eventFigures() {
    return this.figures.events.figures();
  }

  versionFigures() {
    return this.figures.versions.figures();
  }

  osFigures() {
    return this.figures.os.figures();
  }

  clientTypeFigures() {
    return this.figures.client_types.figures();
  }

  errorFigures() {
    return this.figures.errors.figures();
  }

  modelFigures() {
    return this.figures.models.figures();
  }

  dbProviderFigures() {
    return this.figures.db_providers.figures();
  }

  performanceFigures() {
    return this.figures.performance.figures();
  }

  /** The tally as a day's rollup stores it. */
  toRollup(fields: Pick<DayRollup, "day" | "updated_at" | "complete" | "source" | "parts">): DayRollup {
    return { version: ROLLUP_VERSION, ...fields, ingest: this.ingest.encode(), ...encodeFigures(this.figures) };
  }

  /** A rollup's figures, to merge or go on counting. */
  static fromRollup(rollup: DayRollup, options: TallyOptions = {}): EventTally {
    return new EventTally({ ...options, ingest: IngestFigures.decode(rollup.ingest), figures: decodeFigures(rollup) });
  }
}

/** An event sent with `sampling_rate` r in (0, 1] stands for 1/r events; anything else for itself. */
function weightOf(rate: unknown): number {
  return typeof rate === "number" && rate > 0 && rate <= 1 ? 1 / rate : 1;
}
