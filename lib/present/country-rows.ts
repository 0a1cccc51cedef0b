import { z } from "zod";
import type { EventTally } from "../tally/event-tally.ts";

/** What a line without a country is shown as: it is counted, never dropped. */
const UNKNOWN_COUNTRY = "unknown";

/** The report's `countries`: installs and sessions by the caller's country, most installs first. */
export const countryRowsSchema = z.array(
  z.object({
    country: z
      .string()
      .describe(
        'ISO 3166-1 alpha-2 code, as Netlify\'s edge placed the caller; "unknown" for events without one (stored before countries were kept, with TELEMETRY_GEO=off, or of a caller the edge could not place)',
      ),
    installs: z
      .number()
      .int()
      .nonnegative()
      .describe(
        "Distinct installs seen from the country, exact up to 10,000 (as `totals.installs`); an install seen from two countries counts in both",
      ),
    sessions: z.number().int().nonnegative().describe("session.start events (sampling-weighted), as `totals.sessions`"),
  }),
);

export function countryRows(period: EventTally): z.output<typeof countryRowsSchema> {
  return period.figures.countries.figures().map(({ country, installs, sessions }) => ({
    country: country ?? UNKNOWN_COUNTRY,
    installs: installs.estimate(),
    sessions: Math.round(sessions),
  }));
}
