import { z } from "zod";
import { lines } from "./figures/figure.ts";

const schema = z.object({
  lines: lines.describe("Lines in the day's files, test traffic included"),
  bytes: lines,
  parts: lines,
  malformed: lines.describe("Lines that are not a stored event (left out of every figure)"),
  test_events: lines.describe("Lines of test clients (client_type unit-tests), left out of every figure"),
});

type Encoded = z.output<typeof schema>;

/**
 * What the files themselves hold, test traffic and bad lines included: counted by whoever reads
 * them (lines as they are read, bytes and parts by the loop over the parts), not by a figure.
 */
export class IngestFigures {
  static readonly schema = schema;
  lines = 0;
  bytes = 0;
  parts = 0;
  malformed = 0;
  test_events = 0;

  merge(other: IngestFigures): void {
    this.lines += other.lines;
    this.bytes += other.bytes;
    this.parts += other.parts;
    this.malformed += other.malformed;
    this.test_events += other.test_events;
  }

  encode(): Encoded {
    return {
      lines: this.lines,
      bytes: this.bytes,
      parts: this.parts,
      malformed: this.malformed,
      test_events: this.test_events,
    };
  }

  static decode(ingest: Encoded): IngestFigures {
    return Object.assign(new IngestFigures(), ingest);
  }
}
