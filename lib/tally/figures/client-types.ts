import { z } from "zod";
import { keyOrder, lines, type Figure, type TallyLine } from "./figure.ts";

const schema = z.object({ client_types: z.array(z.object({ client_type: z.string(), received: lines })) });

type Encoded = z.output<typeof schema>;

/** Lines by `client_type`. */
export class ClientTypes implements Figure<Encoded> {
  static readonly shape = schema.shape;
  private readonly received = new Map<string, number>();

  add({ event }: TallyLine): void {
    this.received.set(event.client_type, (this.received.get(event.client_type) ?? 0) + 1);
  }

  merge(other: ClientTypes): void {
    for (const [type, received] of other.received) this.received.set(type, (this.received.get(type) ?? 0) + received);
  }

  /** Most lines first. */
  figures() {
    return [...this.received]
      .map(([client_type, received]) => ({ client_type, received }))
      .sort((a, b) => b.received - a.received || keyOrder(a.client_type, b.client_type));
  }

  encode(): Encoded {
    return { client_types: this.figures() };
  }

  static decode({ client_types }: Encoded): ClientTypes {
    const figure = new ClientTypes();
    for (const { client_type, received } of client_types) figure.received.set(client_type, received);
    return figure;
  }
}
