import { z } from "zod";
import { InstallSet } from "../install-set.ts";
import { normalizeOs, type OperatingSystem } from "../normalize-os.ts";
import { decodeInstalls, encodeInstalls } from "./breakdown.ts";
import { joinKey, keyOrder, lines, installSet, type Figure, type TallyLine } from "./figure.ts";

const schema = z.object({
  os: z.array(
    z.object({
      family: z.string().describe("Windows, macOS, Linux, other or unknown"),
      version: z.string().nullable().describe("The version as its users name it (11, 14, 6.1)"),
      received: lines.describe("Lines that named this OS (metadata.os)"),
      installs: installSet,
    }),
  ),
});

type Encoded = z.output<typeof schema>;

interface OsFigures {
  family: string;
  version: string | null;
  received: number;
  installs: InstallSet;
}

/** Lines and installs by operating system (`metadata.os`), by family and version as users name them. */
export class OperatingSystems implements Figure<Encoded> {
  static readonly shape = schema.shape;
  private readonly os = new Map<string, OsFigures>();
  /** What each OS string a client sent stands for: a few strings, sent a million times a day. */
  private readonly names = new Map<string, OperatingSystem>();

  add({ event, hash }: TallyLine): void {
    const reported = event.metadata.os;
    if (typeof reported !== "string") return;
    let os = this.names.get(reported);
    if (!os) {
      os = normalizeOs(reported);
      this.names.set(reported, os);
    }
    const { family, version } = os;
    const key = joinKey(family, version ?? "");
    let figures = this.os.get(key);
    if (!figures) {
      figures = { family, version, received: 0, installs: new InstallSet() };
      this.os.set(key, figures);
    }
    figures.received += 1;
    figures.installs.add(hash);
  }

  merge(other: OperatingSystems): void {
    for (const [key, theirs] of other.os) {
      const ours = this.os.get(key);
      if (!ours) this.os.set(key, { ...theirs, installs: theirs.installs.copy() });
      else {
        ours.received += theirs.received;
        ours.installs.merge(theirs.installs);
      }
    }
  }

  /** Most lines first. */
  figures(): OsFigures[] {
    return [...this.os.values()].sort((a, b) => b.received - a.received || keyOrder(a.family, b.family));
  }

  encode(): Encoded {
    return { os: this.figures().map(encodeInstalls) };
  }

  static decode({ os }: Encoded): OperatingSystems {
    const figure = new OperatingSystems();
    for (const f of os) figure.os.set(joinKey(f.family, f.version ?? ""), decodeInstalls(f));
    return figure;
  }
}
