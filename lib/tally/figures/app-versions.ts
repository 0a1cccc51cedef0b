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
import { estimate, keyOrder, lines, installSet, type Figure, type TallyLine } from "./figure.ts";
import { isCrash, SESSION_START } from "./sessions.ts";

const LAUNCH = "app_launch";

const schema = z.object({
  versions: z.array(
    z.object({
      app_version: z.string(),
      received: lines,
      estimated: estimate,
      launches: estimate.describe("app_launch events"),
      sessions: estimate.describe("session.start events"),
      crashed_sessions: estimate.describe('session.end events with exit_reason "crash"'),
      installs: installSet,
    }),
  ),
});

type Encoded = z.output<typeof schema>;

interface VersionFigures extends Breakdown {
  launches: number;
  sessions: number;
  crashed_sessions: number;
}

const noSessions = () => ({ launches: 0, sessions: 0, crashed_sessions: 0 });

/** Lines, events, launches, sessions, crashed sessions and installs by `app_version`. */
export class AppVersions implements Figure<Encoded> {
  static readonly shape = schema.shape;
  private readonly versions = new Map<string, VersionFigures>();

  add(line: TallyLine): void {
    const { event, weight } = line;
    const version = breakdownOf(this.versions, event.app_version, noSessions);
    countLine(version, line);
    if (event.event_name === LAUNCH) version.launches += weight;
    if (event.event_name === SESSION_START) version.sessions += weight;
    if (isCrash(event)) version.crashed_sessions += weight;
  }

  merge(other: AppVersions): void {
    mergeBreakdowns(this.versions, other.versions, noSessions, (a, b) => {
      a.launches += b.launches;
      a.sessions += b.sessions;
      a.crashed_sessions += b.crashed_sessions;
    });
  }

  /** Most frequent first. */
  figures() {
    return sortedBreakdowns(this.versions, (version, f) => ({ app_version: version, ...f }));
  }

  encode(): Encoded {
    return { versions: this.figures().map(encodeInstalls) };
  }

  static decode({ versions }: Encoded): AppVersions {
    const figure = new AppVersions();
    for (const { app_version, ...f } of versions) figure.versions.set(app_version, decodeInstalls(f));
    return figure;
  }
}

/** Versions as people order them: 1.9 before 1.10. */
export function versionOrder(a: string, b: string): number {
  const pa = a.split(/[.+-]/);
  const pb = b.split(/[.+-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i += 1) {
    const [x = "", y = ""] = [pa[i], pb[i]];
    const [nx, ny] = [Number(x), Number(y)];
    const order = x !== "" && y !== "" && Number.isFinite(nx) && Number.isFinite(ny) ? nx - ny : keyOrder(x, y);
    if (order !== 0) return order;
  }
  return 0;
}
