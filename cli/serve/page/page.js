// The interactive dashboard: asks the server's API (api/figures, api/error-group, api/breakdown), draws
// what it answers. Plain ES module, no build step; vega-embed comes from the server (window.vegaEmbed).
const form = document.querySelector("#filters");
const statusLine = document.querySelector("#status");
const FILTERS = ["version", "os", "client_type", "event"];
const PROGRESS_POLL_MS = 250;

/** The totals shown as cards: data-figure names are the report's, crash_free the rate as a percentage. */
const TOTALS = [
  ["installs", "Installs", (r) => r.totals.installs],
  ["new_installs", "New installs", (r) => r.new_installs.total],
  ["returning_installs", "Returning installs", (r) => r.returning_installs.total],
  ["events", "Events", (r) => r.totals.events],
  ["sessions", "Sessions", (r) => r.totals.sessions],
  ["crash_free", "Crash-free sessions", (r) => percent(r.totals.crash_free_sessions)],
  ["launches", "Launches", (r) => r.totals.launches],
  ["received", "Lines", (r) => r.totals.received],
];

/**
 * The report's lists, each shown by one generic table: a list the report gains is shown by adding its
 * entry here (`{ key: "countries", title: "Countries" }`). `columns` default to the rows' plain fields;
 * `rows` picks them where the list is not at the report's top.
 */
const TABLES = [
  { key: "days", title: "By day (or week, or month: the report's grain)" },
  { key: "versions", title: "App versions" },
  { key: "os", title: "Operating systems", columns: ["os", "installs"] },
  { key: "client_types", title: "Client types" },
  { key: "countries", title: "Countries (installs and sessions; unknown: no country told)" },
  { key: "new_and_returning", title: "New and returning installs by ISO week", rows: newAndReturning },
  {
    key: "retention",
    title: "Retention of each week's new installs, by first version (– until the week is over)",
    rows: (report) =>
      report.retention.cohorts.map((c) => ({ ...c, week_1: percent(c.week_1), week_4: percent(c.week_4) })),
  },
  { key: "events", title: "Events (click one for its metadata)", opens: (row) => openBreakdown(row.event_name) },
  {
    key: "errors",
    title: "Error groups (click one for its occurrences)",
    columns: ["exception_type", "message", "count", "installs", "first_seen", "last_seen", "first_version"],
    opens: (row) => openErrorGroup(row),
  },
  {
    key: "models",
    title: "Model registry (click a header to sort)",
    columns: [
      "model_name",
      "model_source",
      "embedding_dimension",
      "registrations",
      "installs",
      "load_success_rate",
      "inference_success_rate",
    ],
  },
  { key: "db_providers", title: "Database providers" },
  { key: "performance", title: "Performance (ms)" },
];

/** The latest question asked: an answer to an earlier one, arriving late, is dropped. */
let asked = 0;

function percent(rate) {
  return rate === null || rate === undefined ? "–" : `${(rate * 100).toFixed(2)}%`;
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children.filter((child) => child !== undefined && child !== null));
  return node;
}

function show(value) {
  if (value === null || value === undefined) return "–";
  if (typeof value === "number") return value.toLocaleString("en-US");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** The form's question as query parameters: a period (days, or from and to) and the filters not "all". */
function question() {
  const data = new FormData(form);
  const params = new URLSearchParams();
  if (data.get("days")) params.set("days", data.get("days"));
  else if (data.get("from") && data.get("to")) {
    params.set("from", data.get("from"));
    params.set("to", data.get("to"));
  }
  for (const name of FILTERS) if (data.get(name) && data.get(name) !== "all") params.set(name, data.get(name));
  return params;
}

/** Questions under way: the status line says "loading" (or what is being read) until none is. */
let pending = 0;

/** An API answer; while it is awaited, the status line says what is being read, and a refusal what is wrong. */
async function ask(path, params) {
  pending += 1;
  statusLine.dataset.state = "loading";
  statusLine.textContent = "loading…";
  const poll = setInterval(async () => {
    const { reading_bytes: bytes } = await (await fetch("/api/progress")).json();
    if (bytes > 0 && statusLine.dataset.state === "loading")
      statusLine.textContent = `reading ${bytes < 1e5 ? `${Math.ceil(bytes / 1e3)} kB` : `${(bytes / 1e6).toFixed(1)} MB`}…`;
  }, PROGRESS_POLL_MS);
  try {
    const response = await fetch(`${path}?${params}`);
    const body = await response.json();
    if (!response.ok) throw new Error(body.error ?? `${response.status}`);
    if (pending === 1) {
      statusLine.dataset.state = "ready";
      statusLine.textContent = "";
    }
    return body;
  } catch (error) {
    statusLine.dataset.state = "error";
    statusLine.textContent = error.message;
    throw error;
  } finally {
    pending -= 1;
    clearInterval(poll);
  }
}

async function refresh() {
  const mine = ++asked;
  const answer = await ask("/api/figures", question());
  if (mine !== asked) return;
  form.elements.from.value = answer.report.from;
  form.elements.to.value = answer.report.to;
  fillOptions(answer.options);
  drawTotals(answer.report);
  await drawCharts(answer.charts);
  drawTables(answer.report);
  document.body.dataset.filtered = String(answer.filtered);
}

function fillOptions(options) {
  for (const name of FILTERS) {
    const select = form.elements[name];
    const picked = select.value || "all";
    const values = ["all", ...options[name]];
    if (picked !== "all" && !values.includes(picked)) values.push(picked);
    select.replaceChildren(...values.map((value) => el("option", { value }, value)));
    select.value = picked;
  }
}

function drawTotals(report) {
  document
    .querySelector("#totals")
    .replaceChildren(
      ...TOTALS.map(([name, label, value]) =>
        el("div", { class: "card" }, label, el("span", { "data-figure": name }, show(value(report)))),
      ),
    );
}

/** A week's new and returning installs side by side; estimates (above 10,000 installs) are said so. */
function newAndReturning(report) {
  const returning = new Map(report.returning_installs.weeks.map((w) => [w.week, w.installs]));
  const exact = report.new_installs.exact ? "yes" : "no (estimated)";
  return report.new_installs.weeks.map((w) => ({
    week: w.week,
    new_installs: w.installs,
    returning_installs: returning.get(w.week) ?? 0,
    exact,
  }));
}

async function drawCharts(charts) {
  const holder = document.querySelector("#charts");
  const boxes = charts.map((chart) => el("div", { "data-figure": `chart-${chart.name}` }));
  holder.replaceChildren(...boxes);
  // Tooltips on hover: the specs' own fields, by the same Vega-Lite specs as the README's SVGs.
  const options = { actions: false, renderer: "svg", config: { mark: { tooltip: true } } };
  await Promise.all(charts.map((chart, i) => window.vegaEmbed(boxes[i], chart.spec, options)));
}

function drawTables(report) {
  const sections = TABLES.map((table) => ({ table, rows: table.rows ? table.rows(report) : report[table.key] }))
    .filter(({ rows }) => Array.isArray(rows))
    .map(({ table, rows }) => el("section", {}, el("h2", {}, table.title), sortableTable(table, rows)));
  document.querySelector("#tables").replaceChildren(...sections);
}

/** A table of `rows`, sorted by clicking a column's header (again: the other way). */
function sortableTable({ key, columns, opens }, rows) {
  const names =
    columns ??
    Object.keys(rows[0] ?? {}).filter((name) =>
      rows.every((row) => typeof row[name] !== "object" || row[name] === null),
    );
  const table = el("table", { "data-figure": key });
  let order = { column: undefined, direction: 1 };
  const body = el("tbody");
  const fill = () => {
    const sorted =
      order.column === undefined
        ? rows
        : [...rows].sort((a, b) => compare(a[order.column], b[order.column]) * order.direction);
    body.replaceChildren(
      ...sorted.map((row) => {
        const tr = el(
          "tr",
          opens ? { class: "opens", tabindex: "0" } : {},
          ...names.map((name) => el("td", {}, show(row[name]))),
        );
        if (opens) tr.addEventListener("click", () => opens(row));
        return tr;
      }),
    );
  };
  const header = el("tr", {}, ...names.map((name) => el("th", { scope: "col" }, name)));
  header.addEventListener("click", (event) => {
    const th = event.target.closest("th");
    if (!th) return;
    const column = names[[...header.children].indexOf(th)];
    order = { column, direction: order.column === column ? -order.direction : -1 };
    for (const cell of header.children) cell.removeAttribute("aria-sort");
    th.setAttribute("aria-sort", order.direction === 1 ? "ascending" : "descending");
    fill();
  });
  table.append(el("thead", {}, header), body);
  fill();
  if (rows.length === 0) table.append(el("caption", {}, "none in this period"));
  return table;
}

function compare(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  return typeof a === "number" && typeof b === "number"
    ? a - b
    : String(a).localeCompare(String(b), "en", { numeric: true });
}

function openDetail(...children) {
  document.querySelector("#detail-body").replaceChildren(...children);
  const dialog = document.querySelector("#detail");
  if (!dialog.open) dialog.showModal();
}

async function openErrorGroup(group, page = 0) {
  const summary = el(
    "div",
    { "data-figure": "error-group" },
    el("h2", {}, `${group.exception_type}: ${group.message}`),
    el(
      "p",
      {},
      `${show(group.count)} occurrences, ${show(group.installs)} installs; versions ${group.versions.join(", ")}; first seen ${group.first_seen}, last seen ${group.last_seen}`,
    ),
    el("pre", { "data-figure": "traceback" }, group.traceback ?? "(no traceback)"),
  );
  const params = question();
  params.set("fingerprint", group.fingerprint);
  params.set("page", String(page));
  const samples = await ask("/api/error-group", params);
  const pages = Math.max(1, Math.ceil(samples.total / samples.page_size));
  const pager = el("p", {}, `${samples.total} lines, newest first; page ${page + 1} of ${pages} `);
  if (page > 0) pager.append(button("newer", () => openErrorGroup(group, page - 1)));
  if (page + 1 < pages) pager.append(button("older", () => openErrorGroup(group, page + 1)));
  const lines = samples.lines.map((line) =>
    el(
      "details",
      { "data-figure": "error-line" },
      el(
        "summary",
        {},
        `${line.created_at} · ${line.app_version} · ${line.metadata.os ?? "OS unknown"} · ${line.client_type}`,
      ),
      el("pre", {}, JSON.stringify(line, null, 2)),
    ),
  );
  openDetail(summary, el("h3", {}, "Raw lines (install id and address left out)"), pager, ...lines);
}

async function openBreakdown(event, key) {
  const params = question();
  params.set("event", event);
  if (key) params.set("key", key);
  const answer = await ask("/api/breakdown", params);
  const picker = el(
    "select",
    { name: "key" },
    ...answer.keys.map(({ key: name, lines }) => el("option", { value: name }, `${name} (${lines})`)),
  );
  if (answer.key) picker.value = answer.key;
  picker.addEventListener("change", () => openBreakdown(event, picker.value));
  openDetail(
    el(
      "div",
      { "data-figure": "event-breakdown" },
      el("h2", {}, `${event}: ${show(answer.lines)} lines`),
      el("label", {}, "Break down by ", picker),
      sortableTable({ key: "breakdown-values", columns: ["value", "lines"] }, answer.values),
    ),
  );
}

function button(label, onClick) {
  const node = el("button", { type: "button" }, label);
  node.addEventListener("click", onClick);
  return node;
}

async function showIngest() {
  const { checks } = await (await fetch("/api/ingest")).json();
  if (!checks) return;
  document.querySelector("#ingest").hidden = false;
  document
    .querySelector("#ingest ul")
    .replaceChildren(...checks.map((check) => el("li", {}, `${check.ok ? "✓" : "✗"} ${check.name}: ${check.detail}`)));
}

form.addEventListener("change", (event) => {
  // A date picked is a period of its own; a period picked clears the dates it set.
  if (event.target.name === "from" || event.target.name === "to") form.elements.days.value = "";
  if (event.target.name === "days" && form.elements.days.value === "") return;
  refresh().catch(() => {});
});
form.addEventListener("submit", (event) => event.preventDefault());

refresh().catch(() => {});
showIngest().catch(() => {});
