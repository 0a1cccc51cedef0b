import { DDSketch } from "@datadog/sketches-js";
import { z } from "zod";
import { joinKey, keyOrder, lines, type Figure, type TallyLine } from "./figure.ts";

const FIELDS = ["duration_ms", "latency_ms"] as const;
/** DDSketch's relative accuracy: a p95 of 200 ms is told within 2 ms. */
const QUANTILE_ACCURACY = 0.01;

const schema = z.object({
  performance: z.array(
    z.object({
      event_name: z.string(),
      field: z.enum(FIELDS),
      received: lines,
      sketch: z.string().describe("A DDSketch (1% relative accuracy) in its protobuf form, base64: mergeable"),
    }),
  ),
});

type Encoded = z.output<typeof schema>;

interface PerformanceFigures {
  event_name: string;
  field: (typeof FIELDS)[number];
  received: number;
  sketch: DDSketch;
}

/** Quantile sketches of every `duration_ms` and `latency_ms`, by event name (values sampling-weighted). */
export class Percentiles implements Figure<Encoded> {
  static readonly shape = schema.shape;
  private readonly performance = new Map<string, PerformanceFigures>();

  add({ event, weight }: TallyLine): void {
    for (const field of FIELDS) {
      const value = event.metadata[field];
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0) continue;
      const key = joinKey(event.event_name, field);
      let figures = this.performance.get(key);
      if (!figures) {
        figures = { event_name: event.event_name, field, received: 0, sketch: newQuantiles() };
        this.performance.set(key, figures);
      }
      figures.received += 1;
      figures.sketch.accept(value, weight);
    }
  }

  merge(other: Percentiles): void {
    for (const [key, theirs] of other.performance) {
      const ours = this.performance.get(key);
      if (!ours) {
        const sketch = newQuantiles();
        sketch.merge(theirs.sketch);
        this.performance.set(key, { ...theirs, sketch });
      } else {
        ours.received += theirs.received;
        ours.sketch.merge(theirs.sketch);
      }
    }
  }

  /** By event name, then field. */
  figures(): PerformanceFigures[] {
    return [...this.performance.values()].sort(
      (a, b) => keyOrder(a.event_name, b.event_name) || keyOrder(a.field, b.field),
    );
  }

  encode(): Encoded {
    return {
      performance: this.figures().map((f) => ({
        event_name: f.event_name,
        field: f.field,
        received: f.received,
        sketch: Buffer.from(f.sketch.toProto()).toString("base64"),
      })),
    };
  }

  static decode({ performance }: Encoded): Percentiles {
    const figure = new Percentiles();
    for (const f of performance) {
      figure.performance.set(joinKey(f.event_name, f.field), {
        ...f,
        sketch: DDSketch.fromProto(Buffer.from(f.sketch, "base64")),
      });
    }
    return figure;
  }
}

function newQuantiles(): DDSketch {
  return new DDSketch({ relativeAccuracy: QUANTILE_ACCURACY });
}
