import { z } from "zod";
import type { StoredEvent } from "../../events/stored-event.ts";
import { estimate, type Figure, type TallyLine } from "./figure.ts";

export const SESSION_START = "session.start";
const SESSION_END = "session.end";
const CRASH_EXIT = "crash";

const schema = z.object({ sessions: z.object({ started: estimate, ended: estimate, crashed: estimate }) });

type Encoded = z.output<typeof schema>;

/** A session that ended in a crash: `session.end` with `exit_reason: "crash"`. */
export function isCrash(event: StoredEvent): boolean {
  return event.event_name === SESSION_END && event.metadata.exit_reason === CRASH_EXIT;
}

/** Sessions started, ended, and ended in a crash (sampling-weighted). */
export class Sessions implements Figure<Encoded> {
  static readonly shape = schema.shape;
  started = 0;
  ended = 0;
  crashed = 0;

  add({ event, weight }: TallyLine): void {
    if (event.event_name === SESSION_START) this.started += weight;
    if (event.event_name === SESSION_END) this.ended += weight;
    if (isCrash(event)) this.crashed += weight;
  }

  merge(other: Sessions): void {
    this.started += other.started;
    this.ended += other.ended;
    this.crashed += other.crashed;
  }

  encode(): Encoded {
    return { sessions: { started: this.started, ended: this.ended, crashed: this.crashed } };
  }

  static decode({ sessions }: Encoded): Sessions {
    return Object.assign(new Sessions(), sessions);
  }
}
