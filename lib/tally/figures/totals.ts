import { z } from "zod";
import { InstallSet } from "../install-set.ts";
import { estimate, lines, installSet, type Figure, type TallyLine } from "./figure.ts";

const schema = z.object({
  installs: installSet.describe("Active installs"),
  received: lines,
  estimated: estimate,
});

type Encoded = z.output<typeof schema>;

/** Lines received, events estimated (sampling weights applied) and active installs, of all the lines. */
export class Totals implements Figure<Encoded> {
  static readonly shape = schema.shape;
  readonly installs = new InstallSet();
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
    totals.installs.merge(InstallSet.decode(installs));
    totals.received = received;
    totals.estimated = estimated;
    return totals;
  }
}
