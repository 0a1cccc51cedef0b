import { z } from "zod";
import { InstallSet } from "../install-set.ts";
import { estimate, installSet, keyOrder, lines, type Figure, type TallyLine } from "./figure.ts";
import { SESSION_START } from "./sessions.ts";

/**
 * What a small breakdown of the lines by one value of each (its client type, its caller's country)
 * keeps of a value: how its counts start, take a line, and take in another day's.
 */
export interface KeyedCounts<Counts> {
  keyOf(line: TallyLine): string;
  fresh(): Counts;
  add(counts: Counts, line: TallyLine): void;
  merge(into: Counts, from: Counts): void;
}

/** The one way these breakdowns count: a value's counts made the first time it is seen, merged value by value. */
abstract class ByKey<Counts> {
  protected readonly byKey = new Map<string, Counts>();
  protected abstract readonly counts: KeyedCounts<Counts>;

  add(line: TallyLine): void {
    this.counts.add(this.countsOf(this.counts.keyOf(line)), line);
  }

  merge(other: this): void {
    for (const [key, counts] of other.byKey) this.counts.merge(this.countsOf(key), counts);
  }

  protected countsOf(key: string): Counts {
    let counts = this.byKey.get(key);
    if (!counts) {
      counts = this.counts.fresh();
      this.byKey.set(key, counts);
    }
    return counts;
  }
}

const clientTypesSchema = z.object({
  client_types: z.array(z.object({ client_type: z.string(), received: lines })),
});
type ClientTypesEncoded = z.output<typeof clientTypesSchema>;

const CLIENT_TYPE_COUNTS: KeyedCounts<{ received: number }> = {
  keyOf: ({ event }) => event.client_type,
  fresh: () => ({ received: 0 }),
  add: (counts) => (counts.received += 1),
  merge: (into, from) => (into.received += from.received),
};

/** Lines by `client_type`. */
export class ClientTypes extends ByKey<{ received: number }> implements Figure<ClientTypesEncoded> {
  static readonly shape = clientTypesSchema.shape;
  protected readonly counts = CLIENT_TYPE_COUNTS;

  /** Most lines first. */
  figures() {
    return [...this.byKey]
      .map(([client_type, { received }]) => ({ client_type, received }))
      .sort((a, b) => b.received - a.received || keyOrder(a.client_type, b.client_type));
  }

  encode(): ClientTypesEncoded {
    return { client_types: this.figures() };
  }

  static decode({ client_types }: ClientTypesEncoded): ClientTypes {
    const figure = new ClientTypes();
    for (const { client_type, received } of client_types) figure.byKey.set(client_type, { received });
    return figure;
  }
}

const countriesSchema = z.object({
  countries: z.array(
    z.object({
      country: z
        .string()
        .nullable()
        .describe(
          "ISO 3166-1 alpha-2, as Netlify's edge placed the caller; null: unknown (a line without `country`: stored before countries were kept, with TELEMETRY_GEO=off, or of a caller the edge could not place)",
        ),
      installs: installSet.describe("Active installs seen from the country (one seen from two counts in both)"),
      sessions: estimate.describe("session.start events, as `sessions.started` counts them"),
    }),
  ),
});
type CountriesEncoded = z.output<typeof countriesSchema>;
/** A country's figures; its key is its code, "" for unknown (no code is empty). */
interface CountryCounts {
  installs: InstallSet;
  sessions: number;
}

/** A country as stored: a line the reader does not check field by field (edited by hand) may hold anything there. */
const COUNTRY_CODE = /^[A-Z]{2}$/;

const COUNTRY_COUNTS: KeyedCounts<CountryCounts> = {
  keyOf: ({ event }) => (typeof event.country === "string" && COUNTRY_CODE.test(event.country) ? event.country : ""),
  fresh: () => ({ installs: new InstallSet(), sessions: 0 }),
  add: (counts, { event, hash, weight }) => {
    counts.installs.add(hash);
    if (event.event_name === SESSION_START) counts.sessions += weight;
  },
  merge: (into, from) => {
    into.installs.merge(from.installs);
    into.sessions += from.sessions;
  },
};

/** Active installs and sessions by the caller's country (`country`, unknown when a line has none). */
export class Countries extends ByKey<CountryCounts> implements Figure<CountriesEncoded> {
  static readonly shape = countriesSchema.shape;
  protected readonly counts = COUNTRY_COUNTS;

  /** Most installs first, then most sessions, then by code, unknown (`null`) after the known of its rank. */
  figures() {
    return [...this.byKey]
      .map(([key, { installs, sessions }]) => ({
        country: key || null,
        installs,
        sessions,
        count: installs.estimate(),
      }))
      .sort(
        (a, b) =>
          b.count - a.count ||
          b.sessions - a.sessions ||
          Number(a.country === null) - Number(b.country === null) ||
          keyOrder(a.country ?? "", b.country ?? ""),
      )
      .map(({ country, installs, sessions }) => ({ country, installs, sessions }));
  }

  encode(): CountriesEncoded {
    return {
      countries: this.figures().map(({ country, installs, sessions }) => ({
        country,
        installs: installs.encode(),
        sessions,
      })),
    };
  }

  static decode({ countries }: CountriesEncoded): Countries {
    const figure = new Countries();
    for (const { country, installs, sessions } of countries) {
      figure.byKey.set(country ?? "", { installs: InstallSet.decode(installs), sessions });
    }
    return figure;
  }
}

/**
 * A stored rollup (parsed JSON) with its `countries`: one written before countries were kept has
 * none, and every line it counted had no country, so that its day's installs and sessions are all
 * of unknown country, exactly. A day whose files are gone keeps its figures so.
 */
export function withCountries(json: unknown): unknown {
  if (typeof json !== "object" || json === null || "countries" in json) return json;
  const { installs, received, sessions } = json as {
    installs?: unknown;
    received?: unknown;
    sessions?: { started?: unknown };
  };
  const countries = received === 0 ? [] : [{ country: null, installs, sessions: sessions?.started }];
  return { ...json, countries };
}
