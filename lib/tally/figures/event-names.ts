import { z } from "zod";
import {
  breakdownOf,
  countLine,
  decodeInstalls,
  encodeInstalls,
  mergeBreakdowns,
  sortedBreakdowns,
  type Breakdown,
} from "./breakdown.ts";
import { estimate, lines, installSet, type Figure, type TallyLine } from "./figure.ts";

const schema = z.object({
  events: z.array(
    z.object({
      event_name: z.string(),
      received: lines.describe("Lines seen"),
      estimated: estimate.describe("Events estimated, sampling weights applied"),
      installs: installSet,
    }),
  ),
});

type Encoded = z.output<typeof schema>;

/** Lines, events (sampling-weighted) and installs by `event_name`. */
export class EventNames implements Figure<Encoded> {
  static readonly shape = schema.shape;
  private readonly events = new Map<string, Breakdown>();

  add(line: TallyLine): void {
    countLine(
      breakdownOf(this.events, line.event.event_name, () => ({})),
      line,
    );
  }

  merge(other: EventNames): void {
    mergeBreakdowns(this.events, other.events, () => ({}));
  }

  /** Most frequent first. */
  figures() {
    return sortedBreakdowns(this.events, (name, f) => ({ event_name: name, ...f }));
  }

  encode(): Encoded {
    return { events: this.figures().map(encodeInstalls) };
  }

  static decode({ events }: Encoded): EventNames {
    const figure = new EventNames();
    for (const { event_name, ...f } of events) figure.events.set(event_name, decodeInstalls(f));
    return figure;
  }
}
