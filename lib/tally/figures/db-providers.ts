import { z } from "zod";
import { addOutcomes, keyOrder, outcomes, text, type Figure, type Outcomes, type TallyLine } from "./figure.ts";

const DB_CONNECTION_RESULT = "db.connection_result";
const UNKNOWN = "unknown";

const schema = z.object({
  db_providers: z.array(
    z.object({
      db_provider: z.string().describe("db.connection_result's db_type (else db_provider)"),
      connections: outcomes,
    }),
  ),
});

type Encoded = z.output<typeof schema>;

/** Database connections (`db.connection_result`) that succeeded and failed, by provider (sampling-weighted). */
export class DbProviders implements Figure<Encoded> {
  static readonly shape = schema.shape;
  private readonly providers = new Map<string, Outcomes>();

  add({ event, weight }: TallyLine): void {
    const metadata = event.metadata;
    if (event.event_name !== DB_CONNECTION_RESULT || typeof metadata.success !== "boolean") return;
    const provider = text(metadata.db_type) ?? text(metadata.db_provider) ?? UNKNOWN;
    const connections = this.providers.get(provider) ?? { success: 0, failure: 0 };
    connections[metadata.success ? "success" : "failure"] += weight;
    this.providers.set(provider, connections);
  }

  merge(other: DbProviders): void {
    for (const [provider, theirs] of other.providers) {
      const ours = this.providers.get(provider) ?? { success: 0, failure: 0 };
      addOutcomes(ours, theirs);
      this.providers.set(provider, ours);
    }
  }

  /** Most connections first. */
  figures() {
    return [...this.providers]
      .map(([db_provider, connections]) => ({ db_provider, connections }))
      .sort((a, b) => total(b.connections) - total(a.connections) || keyOrder(a.db_provider, b.db_provider));
  }

  encode(): Encoded {
    return { db_providers: this.figures() };
  }

  static decode({ db_providers }: Encoded): DbProviders {
    const figure = new DbProviders();
    for (const { db_provider, connections } of db_providers) figure.providers.set(db_provider, { ...connections });
    return figure;
  }
}

function total(outcomes: Outcomes): number {
  return outcomes.success + outcomes.failure;
}
