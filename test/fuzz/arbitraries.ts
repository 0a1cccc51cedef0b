/**
 * The fast-check arbitraries of the fuzz: request plans, whose bodies are JSON, batch, NDJSON and
 * export texts (damaged, re-encoded and compressed), random bytes, hostile texts or bodies past
 * the size limits, under odd methods and headers. A plan is plain data, so that fast-check can
 * print and shrink it; send.ts makes the request of it. Event ids in a body are markers (@@F@@,
 * @@S<n>@@, @@U<n>@@) that the sender turns into ids no earlier request used.
 */
import { brotliCompressSync, constants, deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import fc from "fast-check";
import { SHAPE_LIMITS } from "../../lib/events/check-shape.ts";
import { MAX_EVENTS_PER_REQUEST } from "../../lib/events/read-batch.ts";

/** Characters that trouble text handling: controls, separators, invisible ones, surrogates, JSON's own. */
const ODD_CHARACTERS = [
  "\u0000",
  "\u0007",
  "\t",
  "\n",
  "\r",
  "\u001b",
  "\u001f",
  "\u007f",
  "\u0085",
  "\u00a0",
  "\u200b",
  "\u2028",
  "\u2029",
  "\ufeff",
  "\ufffd",
  "\ud800",
  "\udfff",
  "\ud83d",
  "😀",
  "👩‍👩‍👧",
  "é",
  "e\u0301",
  "中",
  '"',
  "\\",
  "/",
  "@",
  "%",
  "{",
  "}",
];

/** Pieces of text that redaction rewrites. */
const SCRUBBED_TOKENS = [
  "a@b.cd ",
  "/home/a/",
  "/home/a",
  "/Users/b/x",
  "C:\\Users\\c\\",
  "Bearer 12345678 ",
  "ghp_" + "a".repeat(36) + " ",
  "sk-" + "a".repeat(20) + " ",
  "AKIA" + "A".repeat(16) + " ",
  "x ",
  "-----BEGIN PRIVATE KEY-----",
];

/** Event names with a metadata schema of their own, to reach those schemas, and one (search.query) without. */
const KNOWN_EVENT_NAMES = [
  "app_launch",
  "model_registration",
  "db.connection_attempt",
  "UncaughtException",
  "search.query",
];
/** unit-tests is a dropped client type: taken, counted and not stored. */
const CLIENT_TYPES = ["vector-inspector", "unit-tests", "cli", "UNIT-TESTS"];

/** Keys added beside an event's own: prototype-reaching, unknown, or repeating an envelope's or a batch's. */
const EXTRA_KEYS = [
  "__proto__",
  "constructor",
  "prototype",
  "session",
  "debug",
  "hwid",
  "event_name",
  "metadata",
  "events",
];

/** A small valid event, for batches near the 500-event limit. */
const TINY_EVENT = '{"event_id":"@@F@@","hwid":"h","event_name":"app_launch","app_version":"1"}';

/** Bodies that try to reach Object.prototype. */
const POLLUTING_BODIES = [
  '{"__proto__":{"polluted":1},"hwid":"h","event_name":"e","app_version":"1"}',
  '{"hwid":"h","event_name":"e","app_version":"1","metadata":{"__proto__":{"polluted":1}}}',
  '{"hwid":"h","event_name":"e","app_version":"1","metadata":{"constructor":{"prototype":{"polluted":1}}}}',
  '{"hwid":"h","event_name":"e","app_version":"1","metadata":{"a":[{"__proto__":{"polluted":1}}]}}',
  '[{"__proto__":{"polluted":1}},{"constructor":{"prototype":{"polluted":1}},"hwid":"h","event_name":"e","app_version":"1"}]',
  '{"events":[{"hwid":"h","event_name":"e","app_version":"1","metadata":{"__proto__":{"polluted":1}}}],"__proto__":{"polluted":1}}',
  '{"export_version":1,"client_id":"c","events":[{"event_type":"model_registration","__proto__":{"polluted":1,"client_id":"x"}}]}',
  '{"export_version":1,"client_id":"c","events":[{"event_type":"model_registration","constructor":{"prototype":{"polluted":1}}}]}',
  '{"__proto__":{"export_version":1,"events":[]},"hwid":"h","event_name":"e","app_version":"1"}',
  '{"hwid":"h","event_name":"e","app_version":"1","metadata":{"__proto__":null,"toString":1,"valueOf":{},"hasOwnProperty":"x"}}',
];

/** Bodies built to hurt a parser or a walker. */
const HOSTILE_TEXTS = [
  "",
  " ",
  "\n\n",
  "\ufeff",
  "\ufeff\ufeff{}",
  "null",
  "true",
  "0",
  "1e400",
  "-1e400",
  '"x"',
  "[]",
  "{}",
  '{"events":[]}',
  '{"events":{}}',
  '{"events":null,"hwid":"h","event_name":"e","app_version":"1"}',
  '{"export_version":1}',
  '{"export_version":1,"events":"x"}',
  "[".repeat(5_000) + "]".repeat(5_000),
  "[".repeat(200_000) + "]".repeat(200_000),
  "[".repeat(100_000),
  '{"a":'.repeat(50_000) + "1" + "}".repeat(50_000),
  `{"hwid":"h","event_name":"e","app_version":"1","metadata":{"deep":${"[".repeat(100_000)}${"]".repeat(100_000)}}}`,
  `{"hwid":"h","event_name":"e","app_version":"1","metadata":{"n":1e400,"m":-1e400,"z":-0,"big":123456789012345678901234567890}}`,
  `[${'{"hwid":"h","event_name":"e","app_version":"1","metadata":{"n":1e400}},'.repeat(3)}1e400]`,
  `{"hwid":"h","event_name":"e","app_version":"1","metadata":{"s":"${"\\ud800".repeat(100)}","\\udfff":"\\u0000"}}`,
  `{"hwid":"h","event_name":"e","app_version":"1","metadata":{"a":1,"a":2,"a":{"__proto__":1}}}`,
  `{"hwid":"h","hwid":"${"h".repeat(200)}","event_name":"e","app_version":"1"}`,
];

/** Content-Type headers besides the one that fits the body (FIT): variants, near misses and wrong ones. */
const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "application/json; charset=utf-16",
  "APPLICATION/JSON",
  "text/plain",
  "text/plain;charset=UTF-8",
  "application/x-ndjson",
  "application/ndjson",
  "application/jsonl",
  "application/x-jsonlines",
  "",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  ";",
  "application/json, text/plain",
  "text/json",
];

// ---------------------------------------------------------------------------------------------
// Strings and JSON values, as JSON text (so that keys such as __proto__ stay ordinary keys).
// ---------------------------------------------------------------------------------------------

const oddCharacter = fc.constantFrom(...ODD_CHARACTERS);
const oddUnit = fc.oneof(fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }), oddCharacter);

/** Text of every kind: plain, unicode, lone surrogates, control characters. */
const anyText = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: oddUnit, maxLength: 24 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 24 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 24 }) },
);

/** A string of `limit`'s neighbourhood in length (and far past it), of one repeated character. */
const sizedText = (limit: number) =>
  fc
    .tuple(
      fc.constantFrom(0, 1, limit - 1, limit, limit + 1, 2 * limit),
      fc.constantFrom("a", "é", "😀", "\u0000", "\ud800", " "),
    )
    .map(([length, character]) => character.repeat(length));

/** An envelope string field: mostly valid, sometimes empty, over its limit or odd. */
const fieldText = (limit: number, known: readonly string[] = []) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 20 }) },
    { weight: known.length > 0 ? 4 : 0, arbitrary: fc.constantFrom(...(known.length > 0 ? known : ["x"])) },
    { weight: 2, arbitrary: anyText },
    { weight: 1, arbitrary: sizedText(limit) },
  );

/** JSON number tokens, with ones JSON.parse turns into Infinity, 0 or an imprecise double. */
const numberToken = fc.oneof(
  { weight: 3, arbitrary: fc.double().map((n) => JSON.stringify(n)) },
  { weight: 2, arbitrary: fc.integer().map(String) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "1e400",
      "-1e400",
      "1E-400",
      "-0",
      "0.0",
      "123456789012345678901234567890",
      "9007199254740993",
      "1e308",
      "5e-324",
      "0e0",
    ),
  },
);

/** Metadata keys: ordinary, secret-looking, prototype-reaching, empty, long and odd. */
const metadataKey = fc.oneof(
  { weight: 12, arbitrary: fc.string({ unit: "grapheme-ascii", maxLength: 12 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "__proto__",
      "constructor",
      "prototype",
      "toString",
      "hasOwnProperty",
      "valueOf",
      "__defineGetter__",
      "password",
      "apiKey",
      "GITHUB_TOKEN",
      "cookie",
      "traceback",
      "message",
      "model_name",
      "os",
      "hardware",
      "",
      " ",
      "polluted",
    ),
  },
  { weight: 2, arbitrary: anyText },
  { weight: 1, arbitrary: sizedText(SHAPE_LIMITS.maxKeyLength) },
);

/** Strings that redaction rewrites, many times over, up to the length limit. */
const scrubbedText = fc
  .tuple(
    fc.array(fc.constantFrom(...SCRUBBED_TOKENS), { minLength: 1, maxLength: 3 }),
    fc.constantFrom(1, 10, 0.85, 0.95, 1.0),
  )
  .map(([tokens, fill]) => {
    const unit = tokens.join("");
    const target = fill <= 1 ? Math.floor(SHAPE_LIMITS.maxStringLength * fill) : fill * unit.length;
    return unit.repeat(Math.max(1, Math.floor(target / unit.length)));
  });

const stringToken = fc
  .oneof(
    { weight: 16, arbitrary: anyText },
    { weight: 1, arbitrary: sizedText(SHAPE_LIMITS.maxStringLength) },
    { weight: 1, arbitrary: scrubbedText },
  )
  .map((text) => JSON.stringify(text));

const leafToken = fc.oneof(
  { weight: 4, arbitrary: stringToken },
  { weight: 3, arbitrary: numberToken },
  { weight: 1, arbitrary: fc.constantFrom("true", "false", "null") },
);

const objectText = (entries: [string, string][]) =>
  `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(",")}}`;

/** Nested values, as JSON text: every object key drawn from `metadataKey`. */
const { value: jsonText } = fc.letrec<{ value: string; array: string; object: string }>((tie) => ({
  value: fc.oneof({ depthSize: "small", maxDepth: 6 }, leafToken, tie("array"), tie("object")),
  array: fc.array(tie("value"), { maxLength: 5 }).map((items) => `[${items.join(",")}]`),
  object: fc.array(fc.tuple(metadataKey, tie("value")), { maxLength: 5 }).map(objectText),
}));

/** Nesting around the depth limit: `depth` objects or arrays, one in another. */
const nestedText = fc
  .tuple(fc.integer({ min: SHAPE_LIMITS.maxDepth - 2, max: SHAPE_LIMITS.maxDepth + 3 }), fc.boolean(), leafToken)
  .map(([depth, asArray, leaf]) =>
    asArray ? "[".repeat(depth) + leaf + "]".repeat(depth) : '{"a":'.repeat(depth) + leaf + "}".repeat(depth),
  );

/** Entry counts around the limit. */
const manyEntriesText = fc
  .tuple(
    fc.constantFrom(
      SHAPE_LIMITS.maxEntries - 2,
      SHAPE_LIMITS.maxEntries - 1,
      SHAPE_LIMITS.maxEntries,
      SHAPE_LIMITS.maxEntries + 1,
    ),
    fc.boolean(),
  )
  .map(([count, asObject]) =>
    asObject
      ? objectText(Array.from({ length: count }, (_, index): [string, string] => [`k${index}`, "0"]))
      : `[${Array(count).fill("0").join(",")}]`,
  );

/** Values JSON.stringify makes of fast-check's own generators (its keys may include __proto__). */
const stringifiedValue = fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value) ?? "null");

const metadataValue = fc.oneof(
  { weight: 12, arbitrary: jsonText },
  { weight: 3, arbitrary: stringifiedValue },
  { weight: 1, arbitrary: nestedText },
  { weight: 1, arbitrary: manyEntriesText },
);

const metadataText = fc.oneof(
  { weight: 8, arbitrary: fc.array(fc.tuple(metadataKey, metadataValue), { maxLength: 6 }).map(objectText) },
  {
    weight: 1,
    arbitrary: fc
      .dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 })
      .map((value) => JSON.stringify(value)),
  },
  { weight: 1, arbitrary: fc.oneof(jsonText, nestedText, manyEntriesText, fc.constant("null")) },
);

// ---------------------------------------------------------------------------------------------
// Events and bodies.
// ---------------------------------------------------------------------------------------------

const pad = (n: number, width: number) => String(n).padStart(width, "0");
/** Client timestamps: valid ones at the edges of the calendar and of the offsets, and near misses. */
const timestampText = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record({
        year: fc.oneof(fc.constantFrom(0, 1, 1969, 1970, 2024, 2026, 9999), fc.integer({ min: 0, max: 9999 })),
        month: fc.oneof(
          { weight: 5, arbitrary: fc.constantFrom(1, 2, 6, 12) },
          { weight: 1, arbitrary: fc.constantFrom(0, 13) },
        ),
        day: fc.oneof(
          { weight: 5, arbitrary: fc.constantFrom(1, 28, 29, 30, 31) },
          { weight: 1, arbitrary: fc.constantFrom(0, 32) },
        ),
        hour: fc.oneof(
          { weight: 5, arbitrary: fc.constantFrom(0, 1, 12, 22, 23) },
          { weight: 1, arbitrary: fc.constant(24) },
        ),
        minute: fc.oneof(
          { weight: 5, arbitrary: fc.constantFrom(0, 30, 59) },
          { weight: 1, arbitrary: fc.constant(60) },
        ),
        second: fc.option(
          fc.oneof({ weight: 5, arbitrary: fc.constantFrom(0, 59) }, { weight: 1, arbitrary: fc.constant(60) }),
          { nil: undefined },
        ),
        fraction: fc.option(fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: 1, maxLength: 12 }), {
          nil: undefined,
        }),
        zone: fc.oneof(
          {
            weight: 5,
            arbitrary: fc.constantFrom(
              "Z",
              "",
              "+00:00",
              "-00:00",
              "+01:00",
              "-01:00",
              "+14:00",
              "-12:00",
              "+23:59",
              "-23:59",
            ),
          },
          { weight: 1, arbitrary: fc.constantFrom("z", "+24:00", "+0100", "+01", " Z") },
        ),
      })
      .map(({ year, month, day, hour, minute, second, fraction, zone }) => {
        const seconds = second === undefined ? "" : `:${pad(second, 2)}${fraction === undefined ? "" : `.${fraction}`}`;
        return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hour, 2)}:${pad(minute, 2)}${seconds}${zone}`;
      }),
  },
  { weight: 1, arbitrary: fc.date({ noInvalidDate: true }).map((date) => date.toISOString()) },
  {
    weight: 1,
    arbitrary: fc
      .date({ min: new Date(0), max: new Date("2100-01-01T00:00:00Z"), noInvalidDate: true })
      .map((date) => date.toISOString()),
  },
  { weight: 1, arbitrary: anyText },
);

/** A JSON value of the wrong type for a field. */
const wrongType = fc.oneof(numberToken, fc.constantFrom("true", "null", "[]", "{}", '["a"]', '{"a":1}'), jsonText);

/** An envelope field: absent, of the right type, or of a wrong one. */
const field = (valid: fc.Arbitrary<string>, { absent = 1, wrong = 1 } = {}) =>
  fc.oneof(
    { weight: absent, arbitrary: fc.constant(undefined) },
    { weight: 24, arbitrary: valid },
    { weight: wrong, arbitrary: wrongType },
  );

const eventIdText = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('"@@F@@"', '"@@S0@@"', '"@@U0@@"', '"@@S1@@"') },
  { weight: 1, arbitrary: fc.constantFrom('"not-a-uuid"', '""', '"@@F@@x"', '"{@@F@@}"', "42", "null") },
  { weight: 1, arbitrary: stringToken },
);

const extraEntries = fc.array(
  fc.tuple(fc.oneof(fc.constantFrom(...EXTRA_KEYS), metadataKey), fc.oneof(jsonText, fc.constant('{"polluted":1}'))),
  { maxLength: 2 },
);

/** An event object as JSON text: any field absent, odd, over its limit or of the wrong type. */
const messyEventText = fc
  .record({
    event_id: field(eventIdText, { absent: 8 }),
    timestamp: field(
      timestampText.map((text) => JSON.stringify(text)),
      { absent: 24 },
    ),
    hwid: field(fieldText(128).map((text) => JSON.stringify(text))),
    event_name: field(fieldText(128, KNOWN_EVENT_NAMES).map((text) => JSON.stringify(text))),
    app_version: field(fieldText(64, ["1.2.3", "0.0.0-dev"]).map((text) => JSON.stringify(text))),
    client_type: field(
      fieldText(64, CLIENT_TYPES).map((text) => JSON.stringify(text)),
      { absent: 8 },
    ),
    metadata: field(metadataText, { absent: 4 }),
    extras: fc.oneof({ weight: 8, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: extraEntries }),
  })
  .map(({ extras, ...fields }) => {
    const entries = Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined);
    return objectText([...entries, ...extras]);
  });

const optionalText = (arbitrary: fc.Arbitrary<string>, freq = 2) =>
  fc.option(
    arbitrary.map((text) => JSON.stringify(text)),
    { nil: undefined, freq },
  );
const nonEmpty = (max: number) => fc.string({ unit: oddUnit, minLength: 1, maxLength: max });

/** An event whose envelope is valid (its metadata may still be refused): odd but allowed strings, varied metadata. */
const cleanEventText = fc
  .record({
    event_id: fc.option(fc.constantFrom('"@@F@@"', '"@@S0@@"', '"@@U0@@"'), { nil: undefined }),
    timestamp: optionalText(
      fc
        .date({ min: new Date("0001-01-02T00:00:00Z"), max: new Date("9999-12-30T00:00:00Z"), noInvalidDate: true })
        .map((date) => date.toISOString()),
    ),
    hwid: fc.oneof(fc.uuid(), nonEmpty(64)).map((text) => JSON.stringify(text)),
    event_name: fc
      .oneof(fc.constantFrom(...KNOWN_EVENT_NAMES), fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 40 }))
      .map((text) => JSON.stringify(text)),
    app_version: nonEmpty(32).map((text) => JSON.stringify(text)),
    client_type: optionalText(fc.constantFrom(...CLIENT_TYPES)),
    metadata: fc.option(metadataText, { nil: undefined, freq: 4 }),
  })
  .map((fields) =>
    objectText(Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined)),
  );

const eventText = fc.oneof(messyEventText, cleanEventText);

const exportText = fc
  .record({
    export_version: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom("1", '"1.0"', '""') },
      { weight: 1, arbitrary: fc.constantFrom("null", "true", "{}") },
    ),
    export_timestamp: fc.option(
      fc.oneof(
        { weight: 6, arbitrary: timestampText.map((text) => JSON.stringify(text)) },
        { weight: 1, arbitrary: fc.constant("7") },
      ),
      { nil: undefined },
    ),
    client_id: fc.option(
      fc.oneof(
        { weight: 6, arbitrary: fieldText(128).map((text) => JSON.stringify(text)) },
        { weight: 1, arbitrary: wrongType },
      ),
      { nil: undefined },
    ),
    events: fc.oneof(
      {
        weight: 6,
        arbitrary: fc
          .array(
            fc.record({
              event_type: field(
                fieldText(128, ["model_registration", "model_load"]).map((text) => JSON.stringify(text)),
              ),
              client_id: fc.option(
                fieldText(128).map((text) => JSON.stringify(text)),
                { nil: undefined },
              ),
              timestamp: fc.option(
                timestampText.map((text) => JSON.stringify(text)),
                { nil: undefined },
              ),
              model_name: fc.option(stringToken, { nil: undefined }),
              extras: extraEntries,
            }),
            { maxLength: 5 },
          )
          .map(
            (events) =>
              `[${events
                .map(({ extras, ...fields }) =>
                  objectText([
                    ...Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined),
                    ...extras,
                  ]),
                )
                .join(",")}]`,
          ),
      },
      { weight: 1, arbitrary: wrongType },
    ),
  })
  .map((file) => objectText(Object.entries(file).filter((entry): entry is [string, string] => entry[1] !== undefined)));

/** A body's text, and whether it is NDJSON (which decides the Content-Type that fits it). */
interface BodyText {
  text: string;
  ndjson: boolean;
}
const asJson = (text: fc.Arbitrary<string>): fc.Arbitrary<BodyText> =>
  text.map((value) => ({ text: value, ndjson: false }));

const eventsList = (max: number) => fc.array(eventText, { maxLength: max });
const manyEvents = fc
  .tuple(
    fc.constantFrom(
      MAX_EVENTS_PER_REQUEST - 1,
      MAX_EVENTS_PER_REQUEST,
      MAX_EVENTS_PER_REQUEST + 1,
      2 * MAX_EVENTS_PER_REQUEST,
    ),
    fc.constantFrom("array", "events", "ndjson"),
  )
  .map(([count, shape]): BodyText => {
    const events = Array<string>(count).fill(TINY_EVENT);
    if (shape === "ndjson") return { text: events.join("\n"), ndjson: true };
    return { text: shape === "array" ? `[${events.join(",")}]` : `{"events":[${events.join(",")}]}`, ndjson: false };
  });

const ndjsonText = fc
  .tuple(
    fc.array(
      fc.oneof(
        { weight: 6, arbitrary: eventText },
        { weight: 1, arbitrary: fc.constantFrom("", "   ", "{", "not json", "[1,2]", "null", "\ufeff{}") },
        { weight: 1, arbitrary: jsonText },
      ),
      { maxLength: 8 },
    ),
    fc.constantFrom("\n", "\r\n", "\n\n", "\r", "\u2028"),
    fc.boolean(),
  )
  .map(([lines, separator, trailing]): BodyText => ({
    text: lines.join(separator) + (trailing ? separator : ""),
    ndjson: true,
  }));

/** A request body as text, before any damage. */
const bodyText: fc.Arbitrary<BodyText> = fc.oneof(
  { weight: 20, arbitrary: asJson(eventText) },
  { weight: 8, arbitrary: asJson(eventsList(6).map((events) => `[${events.join(",")}]`)) },
  {
    weight: 6,
    arbitrary: asJson(
      fc
        .tuple(eventsList(6), extraEntries)
        .map(([events, extras]) => objectText([["events", `[${events.join(",")}]`], ...extras])),
    ),
  },
  { weight: 8, arbitrary: ndjsonText },
  { weight: 6, arbitrary: asJson(exportText) },
  { weight: 1, arbitrary: manyEvents },
  { weight: 2, arbitrary: asJson(fc.constantFrom(...POLLUTING_BODIES)) },
  { weight: 2, arbitrary: asJson(fc.constantFrom(...HOSTILE_TEXTS)) },
  { weight: 2, arbitrary: asJson(fc.oneof(jsonText, stringifiedValue)) },
);

/** What is done to the text: nothing mostly; else it is cut, or characters are lost, changed or added. */
type Damage =
  | { kind: "none" }
  | { kind: "truncate"; at: number }
  | { kind: "delete"; at: number; length: number }
  | { kind: "replace"; at: number; text: string }
  | { kind: "insert"; at: number; text: string }
  | { kind: "wrap"; before: string; after: string };

const position = fc.integer({ min: 0, max: 1_000_000 }).map((n) => n / 1_000_000);
const damage: fc.Arbitrary<Damage> = fc.oneof(
  { weight: 24, arbitrary: fc.constant({ kind: "none" as const }) },
  { weight: 1, arbitrary: position.map((at) => ({ kind: "truncate" as const, at })) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("delete" as const),
      at: position,
      length: fc.integer({ min: 1, max: 4 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constantFrom("replace" as const, "insert" as const),
      at: position,
      text: fc.oneof(
        fc.constantFrom('"', "{", "}", "[", "]", ",", ":", "\\", "\u0000", "\n", "x", "-", "e", "1"),
        oddCharacter,
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("wrap" as const),
      before: fc.constantFrom("", "\ufeff", " \t\n", "\u00a0", "\u0000", "//", ")]}'\n"),
      after: fc.constantFrom("", "\n", " x", ",", "}", "\u0000", "\n{"),
    }),
  },
);

export function damaged(text: string, change: Damage): string {
  switch (change.kind) {
    case "none":
      return text;
    case "truncate":
      return text.slice(0, Math.floor(text.length * change.at));
    case "delete": {
      const at = Math.floor(text.length * change.at);
      return text.slice(0, at) + text.slice(at + change.length);
    }
    case "replace":
    case "insert": {
      const at = Math.floor(text.length * change.at);
      return text.slice(0, at) + change.text + text.slice(change.kind === "replace" ? at + 1 : at);
    }
    case "wrap":
      return change.before + text + change.after;
  }
}

/** How the text becomes bytes: UTF-8 mostly, else another encoding or UTF-8 with invalid sequences. */
type Encoding =
  | { kind: "utf8" | "utf16le" | "utf16le-bom" | "utf16be" | "latin1" }
  | { kind: "invalid-utf8"; at: number; bytes: readonly number[] };

const encoding: fc.Arbitrary<Encoding> = fc.oneof(
  { weight: 20, arbitrary: fc.constant({ kind: "utf8" as const }) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom("utf16le" as const, "utf16le-bom" as const, "utf16be" as const, "latin1" as const)
      .map((kind) => ({ kind })),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("invalid-utf8" as const),
      at: position,
      bytes: fc.constantFrom(
        [0xff],
        [0xfe, 0xff],
        [0xc0, 0x80],
        [0x80],
        [0xed, 0xa0, 0x80],
        [0xf4, 0x90, 0x80, 0x80],
        [0xe2, 0x82],
        [0xf0, 0x9f, 0x98],
      ),
    }),
  },
);

export function encoded(text: string, how: Encoding): Uint8Array {
  switch (how.kind) {
    case "utf8":
      return Buffer.from(text, "utf8");
    case "utf16le":
      return Buffer.from(text, "utf16le");
    case "utf16le-bom":
      return Buffer.from(`\ufeff${text}`, "utf16le");
    case "utf16be":
      return Buffer.from(text, "utf16le").swap16();
    case "latin1":
      return Buffer.from(text, "latin1");
    case "invalid-utf8": {
      const bytes = Buffer.from(text, "utf8");
      const at = Math.floor(bytes.length * how.at);
      return Buffer.concat([bytes.subarray(0, at), Buffer.from(how.bytes), bytes.subarray(at)]);
    }
  }
}

/** A Content-Encoding header, and what is really done to the bytes (which need not agree). */
type Compression = "none" | "gzip" | "deflate" | "deflate-raw" | "br" | "gzip+br" | "garbage" | "truncated-gzip";
interface Coding {
  header: string | undefined;
  applied: Compression;
}

const coding: fc.Arbitrary<Coding> = fc.oneof(
  { weight: 20, arbitrary: fc.constant({ header: undefined, applied: "none" as const }) },
  {
    weight: 6,
    arbitrary: fc.constantFrom<Coding>(
      { header: "gzip", applied: "gzip" },
      { header: "x-gzip", applied: "gzip" },
      { header: " GZIP ", applied: "gzip" },
      { header: "deflate", applied: "deflate" },
      { header: "deflate", applied: "deflate-raw" },
      { header: "br", applied: "br" },
      { header: "gzip, br", applied: "gzip+br" },
      { header: "identity", applied: "none" },
      { header: "identity, gzip", applied: "gzip" },
    ),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      header: fc.constantFrom(
        "gzip",
        "deflate",
        "br",
        "gzip, br",
        "br, gzip",
        "zstd",
        "compress",
        "gzip, gzip, gzip",
        ",,,",
        "gzip;q=1",
        "garbage\u00ff",
        "",
        "identity",
        "gzip,",
        "*",
      ),
      applied: fc.constantFrom<Compression>(
        "none",
        "gzip",
        "deflate",
        "deflate-raw",
        "br",
        "gzip+br",
        "garbage",
        "truncated-gzip",
      ),
    }),
  },
);

/** Brotli at a quality that costs little time: the decoder is what is under test. */
const brotli = (bytes: Uint8Array) => brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } });

export function compressed(bytes: Uint8Array, applied: Compression, garbage: Uint8Array): Uint8Array {
  switch (applied) {
    case "none":
      return bytes;
    case "gzip":
      return gzipSync(bytes);
    case "deflate":
      return deflateSync(bytes);
    case "deflate-raw":
      return deflateRawSync(bytes);
    case "br":
      return brotli(bytes);
    case "gzip+br":
      return brotli(gzipSync(bytes));
    case "garbage":
      return garbage;
    case "truncated-gzip": {
      const zipped = gzipSync(bytes);
      return zipped.subarray(0, Math.max(1, zipped.length - 1 - (garbage.length % 8)));
    }
  }
}

/** Header values of any visible or invisible byte a header may carry. */
const headerGarbage = fc.string({
  unit: fc
    .integer({ min: 1, max: 0xff })
    .filter((code) => code !== 0x0a && code !== 0x0d)
    .map((code) => String.fromCharCode(code)),
  maxLength: 40,
});

const idempotencyKey = fc.oneof(
  { weight: 24, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.constant("@@KEY@@") },
  { weight: 1, arbitrary: fc.constantFrom("k".repeat(256), "has space", "tab\there", "cl\u00e9", "") },
  { weight: 1, arbitrary: headerGarbage },
);

/** One request, as data: what the sender builds, and what a counterexample prints. */
export interface RequestPlan {
  method: string;
  /** A text to damage and encode, raw bytes, or (oversized) which of the sender's bodies past the size limits. */
  body:
    | { text: string; ndjson?: boolean; damage: Damage; encoding: Encoding }
    | { bytes: Uint8Array }
    | { oversized: number };
  coding: Coding;
  garbage: Uint8Array;
  /** FIT: the type that fits the body (application/x-ndjson for NDJSON, else application/json). */
  contentType: string | undefined;
  idempotencyKey: string | undefined;
  headers: [string, string][];
  platformIp: string | undefined;
  bodyDecoded: boolean;
}

/** Long texts are shortened where a counterexample is printed; its seed and path replay it whole. */
function abbreviated(plan: RequestPlan): string {
  return JSON.stringify(plan, (_key, value: unknown) => {
    if (typeof value === "string" && value.length > 300)
      return `${value.slice(0, 200)}…(${value.length} characters)…${value.slice(-40)}`;
    if (value instanceof Uint8Array)
      return value.length > 64 ? `Uint8Array(${value.length})` : `Uint8Array[${[...value].join(",")}]`;
    return value;
  });
}

const printable = (plan: RequestPlan): RequestPlan =>
  Object.assign(plan, { [fc.toStringMethod]: () => abbreviated(plan) });

/** A request with `body`: mostly a POST, under every Content-Type, Content-Encoding and odd header. */
export const requestPlan = (body: fc.Arbitrary<RequestPlan["body"]>): fc.Arbitrary<RequestPlan> =>
  fc
    .record({
      method: fc.oneof(
        { weight: 30, arbitrary: fc.constant("POST") },
        { weight: 1, arbitrary: fc.constantFrom("GET", "PUT", "OPTIONS", "DELETE", "PATCH", "post") },
      ),
      body,
      coding,
      garbage: fc.uint8Array({ maxLength: 64 }),
      contentType: fc.oneof(
        { weight: 12, arbitrary: fc.constant("FIT") },
        { weight: 3, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
        { weight: 1, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: headerGarbage },
      ),
      idempotencyKey,
      headers: fc.array(
        fc.tuple(
          fc.constantFrom(
            "x-forwarded-for",
            "x-nf-client-connection-ip",
            "origin",
            "authorization",
            "x-telemetry-key",
            "content-length",
            "accept",
            "te",
          ),
          fc.oneof(
            headerGarbage,
            fc.constantFrom(
              "1.2.3.4, 5.6.7.8",
              "fe80::1%eth0",
              "::ffff:203.0.113.9",
              "999.1.1.1",
              "-1",
              "1e9",
              "https://evil.example",
            ),
          ),
        ),
        { maxLength: 2 },
      ),
      platformIp: fc.constantFrom(undefined, undefined, "203.0.113.7", "2001:db8::1", "not an ip"),
      bodyDecoded: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    })
    .map(printable);

/** JSON, batch, NDJSON and export bodies, damaged, re-encoded and compressed. */
export const textBody = fc
  .record({ body: bodyText, damage, encoding })
  .map(({ body, damage, encoding }) => ({ text: body.text, ndjson: body.ndjson, damage, encoding }));

/** Random bytes, hostile texts and bodies past the size limits. */
export const rawBody = fc.oneof(
  { weight: 6, arbitrary: fc.record({ bytes: fc.uint8Array({ maxLength: 300 }) }) },
  {
    weight: 3,
    arbitrary: fc.record({ text: fc.constantFrom(...HOSTILE_TEXTS, ...POLLUTING_BODIES), damage, encoding }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ text: fc.oneof(jsonText, stringifiedValue, nestedText), damage, encoding }),
  },
  { weight: 1, arbitrary: fc.record({ oversized: fc.nat() }) },
);

/** A valid envelope around metadata's limits and redaction, with a client timestamp at the calendar's edges or none. */
const envelope = fc
  .record({
    metadata: fc.oneof(
      metadataText,
      fc
        .array(
          fc.tuple(
            metadataKey,
            scrubbedText.map((text) => JSON.stringify(text)),
          ),
          { minLength: 1, maxLength: 2 },
        )
        .map(objectText),
    ),
    timestamp: fc.option(timestampText, { nil: undefined }),
    event_name: fc.constantFrom(...KNOWN_EVENT_NAMES),
    client_type: fc.constantFrom("vector-inspector", "unit-tests", "cli"),
  })
  .map(({ metadata, timestamp, event_name, client_type }) =>
    objectText([
      ["event_id", '"@@F@@"'],
      ["hwid", '"h"'],
      ["event_name", JSON.stringify(event_name)],
      ["app_version", '"1.2.3"'],
      ["client_type", JSON.stringify(client_type)],
      ...(timestamp === undefined ? [] : ([["timestamp", JSON.stringify(timestamp)]] as [string, string][])),
      ["metadata", metadata],
    ]),
  );

/** A POST of a valid envelope, undamaged, with plain headers: what the endpoint decides is its metadata and timestamp. */
export const envelopePlan: fc.Arbitrary<RequestPlan> = fc
  .record({
    method: fc.constant("POST"),
    body: fc.record({
      text: envelope,
      damage: fc.constant<Damage>({ kind: "none" }),
      encoding: fc.constant<Encoding>({ kind: "utf8" }),
    }),
    coding,
    garbage: fc.uint8Array({ maxLength: 8 }),
    contentType: fc.constantFrom("application/json", "text/plain", undefined),
    idempotencyKey: fc.constant(undefined),
    headers: fc.constant<[string, string][]>([]),
    platformIp: fc.constant("203.0.113.7"),
    bodyDecoded: fc.constant(false),
  })
  .map(printable);
