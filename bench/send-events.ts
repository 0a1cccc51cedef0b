/** The simulated clients, which behave as the real one. */
import { v7 as uuidv7 } from "uuid";
import type { Clock } from "../lib/clock.ts";
import { toStoredEvent } from "../lib/events/stored-event.ts";
import { telemetryEventSchema } from "../lib/events/telemetry-event.ts";
import { ingest } from "../lib/http/endpoints/ingest.ts";
import { SECRET_MARKER, type Scenario } from "./scenarios.ts";
import type { seedPatternWriter } from "./seed-pattern.ts";
import type { Bench, SpoolService } from "./set-up.ts";

/** The real client: one event per request, gives up after 5 s, sends again on its next flush (about 5 s later), here at most 6 times. */
const CLIENT_TIMEOUT_MS = 5000;
const CLIENT_RETRY_MS = 5000;
const CLIENT_ATTEMPTS = 6;
const INGEST_URL = "https://telemetry.example/api/v1/telemetry";
/** The clients' address as the platform reports it (a documentation range). */
const CLIENT_IP = "203.0.113.7";

/** What the clients were answered, and how long each answer took on the endpoint's clock. */
export interface Acknowledgements {
  acked: number;
  ackMs: number[];
  ackUnit: string;
}

/** Where a client's request goes: its status (0: the client gave up), and the clock its acknowledgement is timed on. */
interface Endpoint {
  post(body: unknown): Promise<number>;
  now(): number;
  ackUnit: string;
}

/**
 * The simulated clients: the scenario's events, evenly spread over its window, each sent as the
 * real client sends it; returns once each is acknowledged or given up.
 */
export async function sendEvents(scenario: Scenario, { clock, service, start }: Bench): Promise<Acknowledgements> {
  const endpoint = service.mode === "spool" ? handlerEndpoint(service) : seedsEndpoint(service.write, clock);
  const ackMs: number[] = [];
  let acked = 0;
  const batch = scenario.batch ?? 1;
  const eventOf = (seq: number) => ({
    hwid: `install-${seq % scenario.clients}`,
    event_name: "app_launch",
    app_version: "1.4.0",
    metadata: {
      seq,
      os: "Linux-6.1-x86_64",
      ...(scenario.secretEvery && seq % scenario.secretEvery === scenario.secretEvery - 1
        ? { note: SECRET_MARKER }
        : {}),
    },
  });
  /** A request: one event (the real client), or `batch` of them in a JSON array. */
  const deliver = async (request: number): Promise<void> => {
    const body = batch === 1 ? eventOf(request) : Array.from({ length: batch }, (_, i) => eventOf(request * batch + i));
    for (let attempt = 0; attempt < CLIENT_ATTEMPTS; attempt += 1) {
      const sent = endpoint.now();
      const status = await endpoint.post(body);
      ackMs.push(endpoint.now() - sent);
      if (status === 201) {
        acked += batch;
        return;
      }
      await clock.sleep(CLIENT_RETRY_MS);
    }
  };

  const deliveries: Promise<void>[] = [];
  const requests = scenario.events / batch;
  for (let request = 0; request < requests; request += 1) {
    const due = start + (request * scenario.windowMs) / requests;
    if (due > clock.now()) await clock.sleep(due - clock.now());
    deliveries.push(deliver(request));
  }
  await Promise.all(deliveries);
  return { acked, ackMs, ackUnit: endpoint.ackUnit };
}

/** The ingest handler, in this process: no client timeout, and the wall-clock time it takes, Blobs write included. */
function handlerEndpoint({ runtime, startFlush }: SpoolService): Endpoint {
  return {
    post: async (body) => {
      const response = await ingest(telemetryRequest(body), {
        runtime,
        platformIp: CLIENT_IP,
        startFlush,
      });
      return response.status;
    },
    now: () => performance.now(),
    ackUnit: "wall ms",
  };
}

/** The seeds' write path, a round trip to GitHub per call: the client gives up on it after its timeout, in simulated time. */
function seedsEndpoint(write: ReturnType<typeof seedPatternWriter>, clock: Clock): Endpoint {
  return {
    post: async (body) => {
      const event = toStoredEvent(telemetryEventSchema.parse(body), {
        eventId: uuidv7(),
        createdAt: new Date(clock.now()),
        ip: CLIENT_IP,
      });
      return Promise.race([write(event), clock.sleep(CLIENT_TIMEOUT_MS).then(() => 0)]);
    },
    now: () => clock.now(),
    ackUnit: "simulated ms",
  };
}

/** A request as the real client posts one event. */
export function telemetryRequest(body: unknown): Request {
  return new Request(INGEST_URL, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}
