import { describe, expect, it } from "vitest";
import { toStoredEvent } from "../lib/events/stored-event.ts";
import { fingerprintError } from "../lib/tally/fingerprint-error.ts";
import { normalizeOs } from "../lib/tally/normalize-os.ts";

describe("operating systems as clients report them", () => {
  it.each([
    ["Windows-10", "Windows", "10"],
    ["Windows-10-10.0.19045-SP0", "Windows", "10"],
    ["Windows-10-10.0.22631-SP0", "Windows", "11"],
    ["Windows-11-10.0.26100-SP0", "Windows", "11"],
    ["Darwin-23.1.0", "macOS", "14"],
    ["Darwin-20.6.0", "macOS", "11"],
    ["Darwin-19.6.0", "macOS", "10.15"],
    ["Darwin-25.0.0", "macOS", "26"],
    ["macOS-14.1-arm64-arm-64bit", "macOS", "14"],
    ["Linux-6.1-x86_64-with-glibc2.36", "Linux", "6.1"],
    ["Linux-5.15.0-91-generic-x86_64-with-glibc2.35", "Linux", "5.15"],
    ["FreeBSD-14.0-RELEASE", "other", null],
    ["", "unknown", null],
    [undefined, "unknown", null],
  ])("reads %j as %s %s", (reported, family, version) => {
    expect(normalizeOs(reported)).toEqual({ family, version });
  });
});

describe("error groups", () => {
  const error = (event_name: string, metadata: Record<string, unknown>) =>
    toStoredEvent(
      { hwid: "h", event_name, app_version: "1.4.0", metadata },
      { eventId: crypto.randomUUID(), createdAt: new Date("2026-11-22T10:00:00Z"), ip: null },
    );
  const traceback = (path: string, message: string) =>
    [
      "Traceback (most recent call last):",
      '  File "/home/[user]/vi/vector_inspector/core/connection.py", line 42, in connect',
      "    client.heartbeat()",
      `  File "${path}", line 118, in heartbeat`,
      "    raise ConnectionError(msg)",
      `ConnectionError: ${message}`,
    ].join("\n");
  const fingerprint = (event_name: string, metadata: Record<string, unknown>) =>
    fingerprintError(error(event_name, metadata))?.fingerprint;

  it("takes the client's error_hash as the group when it sent one", () => {
    const a = fingerprint("UncaughtException", { message: "boom", error_hash: "abc123" });
    expect(a).toBe("abc123");
    expect(fingerprint("query_failed", { message: "other", error_hash: "abc123" })).toBe(a);
  });

  it("puts together messages that differ only in numbers, hex, quoted values, URLs and paths", () => {
    const lib = "/usr/lib/python3.11/site-packages/chromadb/api/client.py";
    const a = fingerprint("UncaughtException", {
      traceback: traceback(lib, "Could not connect to 'prod' at http://localhost:8000 after 3 tries (0x7f3a)"),
    });
    const b = fingerprint("UncaughtException", {
      traceback: traceback(lib, "Could not connect to 'staging' at http://10.0.0.5:9000 after 12 tries (0x1b2c)"),
    });
    const c = fingerprint("UncaughtException", {
      traceback: traceback(
        "C:\\Users\\[user]\\AppData\\Python\\site-packages\\chromadb\\api\\client.py",
        "Could not connect to 'x' at https://db.example/path after 1 tries (0xdead)",
      ),
    });
    expect(a).toBeDefined();
    expect(b).toBe(a);
    expect(c).toBe(a);
  });

  it("tells apart errors of other types, other messages and other places in the application", () => {
    const base = fingerprint("UncaughtException", { exception_type: "ValueError", message: "bad dimension 384" });
    expect(fingerprint("UncaughtException", { exception_type: "TypeError", message: "bad dimension 384" })).not.toBe(
      base,
    );
    expect(fingerprint("UncaughtException", { exception_type: "ValueError", message: "missing collection" })).not.toBe(
      base,
    );
    const here = fingerprint("UncaughtException", { traceback: traceback("/opt/vi/vector_inspector/a.py", "x") });
    const there = fingerprint("UncaughtException", { traceback: traceback("/opt/vi/vector_inspector/b.py", "x") });
    expect(here).not.toBe(there);
  });

  it("reads the type and message from the traceback, and recognises error events by name or exception_type", () => {
    expect(
      fingerprintError(error("UncaughtException", { traceback: traceback("/x/y/z.py", "refused") })),
    ).toMatchObject({
      exceptionType: "ConnectionError",
      message: "refused",
    });
    expect(fingerprintError(error("sample_db.create_failed", { message: "disk full" }))).toMatchObject({
      exceptionType: "sample_db.create_failed",
    });
    expect(fingerprintError(error("RenderError", { message: "x" }))).toBeDefined();
    expect(fingerprintError(error("custom", { exception_type: "KeyError", message: "'k'" }))).toBeDefined();
    expect(fingerprintError(error("app_launch", { os: "Linux" }))).toBeUndefined();
  });
});
