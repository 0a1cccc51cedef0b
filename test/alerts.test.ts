import { randomUUID } from "node:crypto";
import { HOUR_MS, MINUTE_MS, systemClock, type Clock } from "../lib/clock.ts";
import { loadConfig } from "../lib/config.ts";
import { addDays, DAY_MS } from "../lib/day.ts";
import type { StoredEvent } from "../lib/events/stored-event.ts";
import { PUBLISH_SCHEDULED_BUDGET_MS } from "../lib/insights/publish-insights.ts";
import { dayRollupSchema, rollupPath } from "../lib/tally/day-rollup.ts";
import { dayFiles } from "./support/data-folder.ts";
import type { FakeGitHub, FakeGitHubOptions } from "./support/fake-github/index.ts";
import { describe, expect, test } from "./support/fixtures.ts";

/** The job's clock, which each test moves: the fake GitHub keeps the same time. */
const T0 = Date.parse("2026-12-01T12:00:00Z");
const D0 = "2026-12-01";
let now = T0;
const clock: Clock = { ...systemClock, now: () => now };
let sequence = 0;

const it = test.extend("open", async ({ serveGitHub, runtimeOf }) => {
  now = T0;
  return async (options: FakeGitHubOptions = {}, env: Record<string, string> = {}) => {
    const served = await serveGitHub({ now: () => now, ...options });
    const runtime = runtimeOf({ ...served.env, ...env }, { clock });
    const publish = () => runtime.publish(PUBLISH_SCHEDULED_BUDGET_MS);
    return { github: served.fake, runtime, publish };
  };
});

/** An event at second `n` of `day` (before noon, so that "today" at noon has it). */
function event(day: string, event_name: string, metadata: Record<string, unknown>, version = "1.3.0"): StoredEvent {
  sequence += 1;
  const second = sequence % (12 * 3600);
  const time = new Date(Date.parse(`${day}T00:00:00Z`) + second * 1000).toISOString();
  return {
    event_id: randomUUID(),
    created_at: time,
    ip: null,
    hwid: `install-${sequence % 40}`,
    event_name,
    app_version: version,
    client_type: "vector-inspector",
    metadata,
  };
}

/** `count` occurrences of one error group (messages that differ only in numbers and paths), from several installs. */
function errors(day: string, count: number, { version = "1.3.0", what = "db" } = {}): StoredEvent[] {
  return Array.from({ length: count }, (_, i) =>
    event(
      day,
      "sample_db.create_failed",
      {
        message: `ValueError: could not read ${what} '/home/u${i}/data/db-${i}.sqlite' after ${i} tries`,
        traceback: `Traceback (most recent call last):\n  File "/home/u${i}/app/vector_inspector/sample_db.py", line 10, in create\n    open(p)\nValueError: could not read ${what} '/home/u${i}/data/db-${i}.sqlite' after ${i} tries`,
      },
      version,
    ),
  );
}

function alertIssues(github: FakeGitHub) {
  return github.issues.issues.filter((issue) => issue.labels.includes("telemetry-alert"));
}

describe("alerts as GitHub issues, opened by the hourly job", () => {
  it("opens one issue for a new error group, with what the rollup keeps scrubbed and no install, and none again on the next run", async ({
    open,
  }) => {
    const { github, publish } = await open();
    const events = [...errors(D0, 12), event(D0, "app_launch", {})];
    github.seedAll(dayFiles(events));
    // A pull request with the label is no alert's issue.
    github.issues.seedPullRequest("Fix the sample database", ["telemetry-alert"]);

    const report = await publish();
    expect(report).toMatchObject({ outcome: "published", error: null });
    expect(report.alerts).toMatchObject({ outcome: "checked", opened: 1, waiting: 0, message: null });
    const [issue, ...others] = alertIssues(github).filter((i) => !i.pull_request);
    expect(others).toEqual([]);
    expect(issue!.title).toBe("Error: ValueError: could not read db <str> after <n> tries");
    const body = issue!.body!;
    expect(body).toMatch(/^<!-- telemetry-alert:error-group:[0-9a-f]{16} -->/);
    expect(body).toContain("| type | `ValueError` |");
    expect(body).toContain("| installs | 12 |");
    expect(body).toContain("| versions | `1.3.0` |");
    expect(body).toContain(`first seen ${D0} 00:`);
    expect(body).toContain("```text\nTraceback (most recent call last):");
    // Never an install id, nor the keyed hash the rollup names a sample's install by, nor a home folder's user.
    const installs = new Set(events.map((e) => e.hwid));
    const rollup = dayRollupSchema.parse(JSON.parse(github.file(rollupPath(D0))!));
    const hashes = rollup.errors.flatMap((group) => group.samples.map((sample) => sample.install));
    expect(hashes.length).toBeGreaterThan(0);
    for (const text of [issue!.title, body]) {
      for (const id of [...installs, ...hashes]) expect(text).not.toMatch(new RegExp(`\\b${id}\\b`));
      expect(text).not.toMatch(/\/home\/u\d/);
    }

    const again = await publish();
    expect(again.alerts).toMatchObject({ outcome: "checked", opened: 0, commented: 0, closed: 0 });
    expect(alertIssues(github).filter((i) => !i.pull_request)).toHaveLength(1);
  });

  it("scrubs what the rollup keeps as sent (an exception type, a client's error_hash, a version): no address or token reaches an issue, and its marker still finds it", async ({
    open,
  }) => {
    const { github, publish } = await open();
    // Stored as sent (TELEMETRY_SCRUB=off, or a file edited by hand): the rollup scrubs messages and tracebacks, not these.
    const token = `ghp_${"a1B2".repeat(9)}`;
    const sent = Array.from({ length: 3 }, () =>
      event(
        D0,
        "sync_failed",
        { exception_type: "AuthError(alice@example.com)", error_hash: token, message: "refused" },
        "1.3.0+bob@example.com",
      ),
    );
    github.seedAll(dayFiles(sent));
    expect((await publish()).alerts).toMatchObject({ outcome: "checked", opened: 1 });
    const [issue] = alertIssues(github);
    for (const text of [issue!.title, issue!.body!]) {
      expect(text).not.toContain("example.com");
      expect(text).not.toContain(token);
    }
    expect(issue!.title).toBe("Error: AuthError([email]): refused");
    expect(issue!.body).toContain("| versions | `[email]` |");

    now += HOUR_MS;
    expect((await publish()).alerts).toMatchObject({ outcome: "checked", opened: 0 });
    expect(alertIssues(github)).toHaveLength(1);
  });

  it("comments on a spike once a day, closes after 14 days without an occurrence, and reopens a regression", async ({
    open,
  }) => {
    const { github, publish } = await open();
    github.seedAll(dayFiles(errors(D0, 12)));
    expect((await publish()).alerts).toMatchObject({ opened: 1 });
    const issue = alertIssues(github)[0]!;

    // Three days later, 30 in a day against a mean of 12/7 a day over the 7 days before.
    const D3 = addDays(D0, 3);
    now = T0 + 3 * DAY_MS;
    github.seedAll(dayFiles(errors(D3, 30)));
    expect((await publish()).alerts).toMatchObject({ outcome: "checked", commented: 1, opened: 0 });
    expect(issue.comments.at(-1)).toContain(`Spike: 30 occurrences on ${D3} (so far), against a daily mean of 1.7`);
    now += HOUR_MS;
    expect((await publish()).alerts).toMatchObject({ commented: 0 });
    expect(issue.comments).toHaveLength(1);

    // 14 days and more without one: closed, as completed.
    now = T0 + 18 * DAY_MS;
    expect((await publish()).alerts).toMatchObject({ outcome: "checked", closed: 1 });
    expect(issue).toMatchObject({ state: "closed", state_reason: "completed" });
    expect(issue.comments.at(-1)).toContain(`No occurrence since ${D3}`);

    // It comes back in a new version: reopened, and the comment says it is a regression and where.
    now = T0 + 19 * DAY_MS;
    const D19 = addDays(D0, 19);
    github.seedAll(dayFiles(errors(D19, 2, { version: "1.4.0" })));
    expect((await publish()).alerts).toMatchObject({ outcome: "checked", reopened: 1, opened: 0 });
    expect(issue).toMatchObject({ state: "open", state_reason: "reopened" });
    expect(issue.comments.at(-1)).toMatch(
      new RegExp(`^Regression: the error occurred again on ${D19} in version 1\\.4\\.0`),
    );
    expect(alertIssues(github)).toHaveLength(1);
  });

  it("opens at most 5 issues a run; the rest wait for the next run, oldest first", async ({ open }) => {
    const { github, publish } = await open();
    const groups = ["a", "b", "c", "d", "e", "f", "g"];
    github.seedAll(dayFiles(groups.flatMap((what) => errors(D0, 2, { what }))));
    expect((await publish()).alerts).toMatchObject({ opened: 5, waiting: 2 });
    expect(alertIssues(github).map((i) => i.title)).toEqual(
      groups.slice(0, 5).map((what) => `Error: ValueError: could not read ${what} <str> after <n> tries`),
    );
    expect((await publish()).alerts).toMatchObject({ opened: 2, waiting: 0 });
    expect(alertIssues(github)).toHaveLength(7);
  });

  it("writes only what the flusher's pace leaves of GitHub's 80 content writes a minute, and says so", async ({
    open,
  }) => {
    // The flusher may make 78 a minute: 2 are left for the issues.
    const { github, publish } = await open({}, { TELEMETRY_WRITES_PER_MINUTE: "78" });
    github.seedAll(dayFiles(["a", "b", "c"].flatMap((what) => errors(D0, 2, { what }))));
    const report = await publish();
    expect(report.alerts).toMatchObject({ outcome: "checked", opened: 2, waiting: 1 });
    expect(report.alerts!.message).toContain("TELEMETRY_WRITES_PER_MINUTE and TELEMETRY_WRITES_PER_HOUR leave");
    expect(alertIssues(github)).toHaveLength(2);
  });

  it("release health: opens when the newest version's crash-free sessions fall 2 points below the previous one's, and closes when it clears", async ({
    open,
  }) => {
    const { github, publish } = await open({}, { TELEMETRY_ALERTS_OFF: "error_group" });
    const sessions = (day: string, version: string, count: number, crashed: number) =>
      Array.from({ length: count }, (_, i) => [
        event(day, "session.start", {}, version),
        event(day, "session.end", { exit_reason: i < crashed ? "crash" : "normal" }, version),
      ]).flat();
    github.seedAll(
      dayFiles([
        ...sessions(addDays(D0, -2), "1.3.0", 200, 2),
        ...sessions(addDays(D0, -1), "1.10.0", 150, 15),
        // Too few sessions to count: never the newest.
        ...sessions(D0, "2.0.0-beta", 20, 0),
      ]),
    );
    expect((await publish()).alerts).toMatchObject({ outcome: "checked", opened: 1 });
    const [issue] = alertIssues(github);
    expect(issue!.title).toBe("Release health: 1.10.0 has fewer crash-free sessions than 1.3.0");
    expect(issue!.body).toContain(
      "1.10.0's crash-free sessions are 90.0% of 150, 9.0 points below 1.3.0's 99.0% of 200",
    );

    // A fixed release takes over: 1.10.0 is no longer the newest.
    now += HOUR_MS;
    github.seedAll(dayFiles(sessions(D0, "1.10.1", 150, 1)));
    expect((await publish()).alerts).toMatchObject({ outcome: "checked", closed: 1, opened: 0 });
    expect(issue).toMatchObject({ state: "closed", state_reason: "completed" });
  });

  it("silence: no event stored for 6 hours after a busy week, and events left waiting in the spool, each until it clears", async ({
    open,
  }) => {
    const { github, runtime, publish } = await open({}, { TELEMETRY_ALERTS_OFF: "error_group,release_health" });
    // 3,500 events over the 7 days before today: more than 20 an hour.
    github.seedAll(
      dayFiles(Array.from({ length: 3500 }, (_, i) => event(addDays(D0, -1 - (i % 7)), "app_launch", {}))),
    );
    const storedAt = async (at: number) => {
      const state = await runtime.spool!.lease.acquire();
      await runtime.spool!.lease.release({ ...state!, stored_at: at });
    };
    await storedAt(T0 - 7 * HOUR_MS);
    expect((await publish()).alerts).toMatchObject({ outcome: "checked", opened: 1 });
    const [quiet] = alertIssues(github);
    expect(quiet!.title).toBe("Silence: no event stored for 6 hours");
    expect(quiet!.body).toContain("averaged 20.8 events an hour");

    // A flush stores events again: the state says when, and the alert clears.
    await runtime.spool!.spool.add([event(D0, "app_launch", {})]);
    await runtime.spool!.flush(25_000);
    expect((await runtime.spool!.lease.read()).stored_at).toBe(T0);
    expect((await publish()).alerts).toMatchObject({ outcome: "checked", opened: 0, closed: 1 });
    expect(quiet).toMatchObject({ state: "closed" });
    expect(quiet!.comments.at(-1)).toBe(
      `Cleared: events are stored again (the last at ${new Date(T0).toISOString()}).`,
    );

    // An event accepted 20 minutes ago still waits (the health threshold is 15).
    now = T0 - 20 * MINUTE_MS;
    await runtime.spool!.spool.add([event(D0, "app_launch", {})]);
    now = T0 + 5 * MINUTE_MS;
    expect((await publish()).alerts).toMatchObject({ outcome: "checked", opened: 1 });
    const waiting = alertIssues(github)[1]!;
    expect(waiting.title).toBe("Silence: events wait in the spool and are not stored");
    expect(waiting.body).toContain("The oldest waiting event was accepted 25 min ago; the limit is 15 min");

    await runtime.spool!.spool.remove(await runtime.spool!.spool.list());
    now += 2 * MINUTE_MS;
    expect((await publish()).alerts).toMatchObject({ closed: 1 });
    expect(waiting).toMatchObject({ state: "closed" });
  });

  it("credentials: a token that expires in 3 days opens an alert", async ({ open }) => {
    const { github, publish } = await open({ tokenExpiresAt: new Date(T0 + 3 * DAY_MS) });
    github.seedAll(dayFiles([event(D0, "app_launch", {})]));
    expect((await publish()).alerts).toMatchObject({ outcome: "checked", opened: 1 });
    const [issue] = alertIssues(github);
    expect(issue!.title).toBe("Credentials: the GitHub token expires within 7 days");
    expect(issue!.body).toContain(
      "The GitHub token expires at 2026-12-04T12:00:00.000Z: renew it, or use a GitHub App",
    );
    expect(issue!.body).not.toContain("fixture-github-token");
  });

  it("opens nothing with TELEMETRY_ALERTS=off, nor for a kind turned off; an unknown kind is a configuration error", async ({
    open,
  }) => {
    const off = await open({ tokenExpiresAt: new Date(T0 + 3 * DAY_MS) }, { TELEMETRY_ALERTS: "off" });
    off.github.seedAll(dayFiles(errors(D0, 12)));
    expect((await off.publish()).alerts).toMatchObject({ outcome: "off", opened: 0 });
    expect(off.github.issues.issues).toEqual([]);
    expect(off.github.requests.filter((r) => r.path.includes("/issues"))).toEqual([]);

    // Every kind turned off one by one is off too, and the report does not name a variable left unset.
    const none = await open({}, { TELEMETRY_ALERTS_OFF: "error_group,release_health,silence,credentials" });
    none.github.seedAll(dayFiles(errors(D0, 12)));
    expect((await none.publish()).alerts).toMatchObject({
      outcome: "off",
      opened: 0,
      message: "no alert kind is on (TELEMETRY_ALERTS, TELEMETRY_ALERTS_OFF)",
    });

    const some = await open({ tokenExpiresAt: new Date(T0 + 3 * DAY_MS) }, { TELEMETRY_ALERTS_OFF: "credentials" });
    some.github.seedAll(dayFiles(errors(D0, 12)));
    expect((await some.publish()).alerts).toMatchObject({ outcome: "checked", opened: 1 });
    expect(alertIssues(some.github).map((i) => i.title)).toEqual([
      "Error: ValueError: could not read db <str> after <n> tries",
    ]);

    expect(() => loadConfig({ TELEMETRY_ALERTS_OFF: "error_group,crashes" })).toThrow(
      "TELEMETRY_ALERTS_OFF must be a comma-separated list of alert kinds: error_group, release_health, silence, credentials",
    );
  });

  it("a credential without the Issues permission does not fail the job: the report says what it lacks", async ({
    open,
  }) => {
    for (const issues of ["none", "read"] as const) {
      const { github, publish } = await open({ issues });
      github.seedAll(dayFiles(errors(D0, 12)));
      const report = await publish();
      expect(report).toMatchObject({ outcome: "published", error: null });
      expect(report.alerts).toMatchObject({ outcome: "not_permitted", opened: 0 });
      expect(report.alerts!.message).toContain("issues: write");
      expect(github.issues.issues).toEqual([]);
    }
  });

  it("stops the pass cleanly at GitHub's secondary rate limit, and carries on at the next run", async ({ open }) => {
    // Four content writes a minute: the rollups' commit (tree, commit, ref) and one issue.
    const { github, publish } = await open({ writesPerMinute: 4 });
    github.seedAll(dayFiles(["a", "b", "c"].flatMap((what) => errors(D0, 2, { what }))));
    const limited = await publish();
    expect(limited).toMatchObject({ outcome: "published", error: null });
    expect(limited.alerts).toMatchObject({ outcome: "stopped", opened: 1, waiting: 2 });
    expect(limited.alerts!.message).toBe("GitHub's rate limit was reached: the rest waits for the next run");
    // One refused request, not a retry storm.
    const refused = github.requests.filter(
      (r) => r.method === "POST" && r.path.endsWith("/issues") && r.status === 403,
    );
    expect(refused).toHaveLength(1);

    now += 2 * MINUTE_MS;
    expect((await publish()).alerts).toMatchObject({ outcome: "checked", opened: 2, waiting: 0 });
    expect(alertIssues(github)).toHaveLength(3);
  });

  it("has no alerts with the local store (no GitHub)", async ({ runtimeOf, tempDir }) => {
    const runtime = runtimeOf({ TELEMETRY_LOCAL_DIR: await tempDir() }, { clock });
    const report = await runtime.publish(PUBLISH_SCHEDULED_BUDGET_MS);
    expect(report.alerts).toMatchObject({ outcome: "off", message: "the local store has no issues to open" });
  });
});
