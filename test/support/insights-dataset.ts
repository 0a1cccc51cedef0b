import type { StoredEvent } from "../../lib/events/stored-event.ts";

/**
 * A generated dataset whose figures are known by construction: each install runs one version on
 * one OS and, each day it is active, launches the app, runs sessions (some crash), queries with
 * known latencies, registers models and connects to databases; some events are sampled, some
 * come from test clients, and errors come in groups whose members differ only in what varies.
 */
export interface Dataset {
  events: StoredEvent[];
  expected: Expected;
}

export interface Expected {
  /** By day: lines of real clients, and the distinct installs active. */
  days: Map<string, { received: number; installs: Set<string>; launches: number }>;
  eventCounts: Map<string, { received: number; estimated: number }>;
  versionInstalls: Map<string, Set<string>>;
  osFamilyInstalls: Map<string, Set<string>>;
  testEvents: number;
  sessions: number;
  crashed: number;
  latencies: number[];
  installs: Set<string>;
}

export const VERSIONS = ["1.2.0", "1.3.0", "1.10.0"] as const;
export const OS_STRINGS = [
  ["Windows-10-10.0.19045-SP0", "Windows"],
  ["Windows-10-10.0.22631-SP0", "Windows"],
  ["Darwin-23.1.0", "macOS"],
  ["Linux-6.1-x86_64-with-glibc2.36", "Linux"],
] as const;
/** One query.executed event in ten is sampled at this rate: it stands for 1 / rate. */
export const SAMPLING_RATE = 0.25;

export function generateDataset({ installs = 300, days = ["2026-11-20", "2026-11-21", "2026-11-22"] } = {}): Dataset {
  const random = seeded(42);
  const events: StoredEvent[] = [];
  const expected: Expected = {
    days: new Map(),
    eventCounts: new Map(),
    versionInstalls: new Map(),
    osFamilyInstalls: new Map(),
    testEvents: 0,
    sessions: 0,
    crashed: 0,
    latencies: [],
    installs: new Set(),
  };
  let sequence = 0;
  const emit = (
    day: string,
    hwid: string,
    version: string,
    event_name: string,
    metadata: Record<string, unknown>,
    clientType = "vector-inspector",
  ) => {
    sequence += 1;
    const second = sequence % 86_400;
    const created_at = `${day}T${String(Math.floor(second / 3600)).padStart(2, "0")}:${String(Math.floor(second / 60) % 60).padStart(2, "0")}:${String(second % 60).padStart(2, "0")}.000Z`;
    events.push({
      event_id: `00000000-0000-4000-8000-${String(sequence).padStart(12, "0")}`,
      created_at,
      ip: null,
      hwid,
      event_name,
      app_version: version,
      client_type: clientType,
      metadata,
    });
    if (clientType === "unit-tests") {
      expected.testEvents += 1;
      return;
    }
    const figures = expected.eventCounts.get(event_name) ?? { received: 0, estimated: 0 };
    figures.received += 1;
    const rate = metadata.sampling_rate;
    figures.estimated += typeof rate === "number" ? 1 / rate : 1;
    expected.eventCounts.set(event_name, figures);
    const dayFigures = expected.days.get(day) ?? { received: 0, installs: new Set(), launches: 0 };
    dayFigures.received += 1;
    dayFigures.installs.add(hwid);
    if (event_name === "app_launch") dayFigures.launches += 1;
    expected.days.set(day, dayFigures);
    expected.installs.add(hwid);
    add(expected.versionInstalls, version, hwid);
  };

  for (let i = 0; i < installs; i += 1) {
    const hwid = `install-${i}`;
    const version = VERSIONS[i % VERSIONS.length]!;
    const [os, family] = OS_STRINGS[i % OS_STRINGS.length]!;
    for (const [d, day] of days.entries()) {
      // Every install is active on the first day; then two in three.
      if (d > 0 && i % 3 === d % 3) continue;
      emit(day, hwid, version, "app_launch", { os });
      add(expected.osFamilyInstalls, family, hwid);
      emit(day, hwid, version, "session.start", { os });
      expected.sessions += 1;
      const crash = i % 10 === 0;
      if (crash) expected.crashed += 1;
      emit(day, hwid, version, "session.end", { os, duration_ms: 1000 + i, exit_reason: crash ? "crash" : "normal" });
      const latency = Math.round(random() * 500);
      const sampled = i % 10 === 5;
      emit(day, hwid, version, "query.executed", {
        latency_ms: latency,
        success: true,
        ...(sampled ? { sampling_rate: SAMPLING_RATE } : {}),
      });
      if (!sampled) expected.latencies.push(latency);
      if (i % 7 === 0) emit(day, hwid, version, "db.connection_result", { db_type: "chroma", success: i % 14 === 0 });
    }
    if (i % 5 === 0) {
      emit(days[0]!, hwid, version, "model_registration", {
        model_name: "all-MiniLM-L6-v2",
        model_source: "sentence-transformers",
        embedding_dimension: 384,
        modalities: ["text"],
        normalization: "l2",
        distance_metric: "cosine",
        device_type: i % 10 === 0 ? "cuda" : "cpu",
        load_success: i % 25 !== 0,
        inference_success: true,
      });
    }
    // A test client's traffic: stored (not dropped) and left out of every figure.
    if (i % 50 === 0) emit(days[0]!, `ci-${i}`, version, "app_launch", { os }, "unit-tests");
  }
  // Error groups: one by the client's hash, one by fingerprint of messages that differ only in numbers and paths.
  for (let i = 0; i < 12; i += 1) {
    emit(days[1] ?? days[0]!, `install-${i}`, VERSIONS[i % 3]!, "UncaughtException", {
      message: `boom ${i}`,
      error_hash: "client-hash-1",
      exception_type: "RuntimeError",
    });
    emit(days.at(-1)!, `install-${i}`, VERSIONS[i % 3]!, "sample_db.create_failed", {
      message: `ValueError: could not read '/home/u${i}/data/db-${i}.sqlite' after ${i * 3} tries`,
      traceback: `Traceback (most recent call last):\n  File "/app/vector_inspector/sample_db.py", line ${100 + i}, in create\n    open(p)\nValueError: could not read '/home/u${i}/data/db-${i}.sqlite' after ${i * 3} tries`,
    });
  }
  emit(days.at(-1)!, "install-1", "1.3.0", "QtError", {
    message: "QPainter::begin: Paint device returned engine == 0",
  });
  return { events, expected };
}

function add(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key) ?? new Set();
  set.add(value);
  map.set(key, set);
}

/** A small deterministic generator (mulberry32), so that the dataset is the same on every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
