import { z } from "zod";
import { HyperLogLog, INSTALLS_PRECISION } from "../hyper-log-log.ts";
import { estimate, lines, sketch, type Figure, type TallyLine } from "./figure.ts";

const schema = z.object({
  installs: sketch.describe("Active installs (HyperLogLog, 2^14 registers: 0.8% standard error)"),
  received: lines,
  estimated: estimate,
});

type Encoded = z.output<typeof schema>;

/** Lines received, events estimated (sampling weights applied) and active installs, of all the lines. */
export class Totals implements Figure<Encoded> {
  static readonly shape = schema.shape;
  readonly installs = new HyperLogLog(INSTALLS_PRECISION);
  received = 0;
  estimated = 0;

  add({ weight, hash }: TallyLine): void {
    this.received += 1;
    this.estimated += weight;
    this.installs.add(hash);
  }

  merge(other: Totals): void {
    this.installs.merge(other.installs);
    this.received += other.received;
    this.estimated += other.estimated;
  }

  encode(): Encoded {
    return { installs: this.installs.encode(), received: this.received, estimated: this.estimated };
  }

  static decode({ installs, received, estimated }: Encoded): Totals {
    const totals = new Totals();
    totals.installs.merge(HyperLogLog.decode(installs));
    totals.received = received;
    totals.estimated = estimated;
    return totals;
  }
}
