// The sofaas dashboard: a client of the /v1 control API, as the CLI is. The token typed in
// is kept in this tab's sessionStorage and sent only as "Authorization: Bearer" by fetch,
// to this origin: never in a URL, never in a cookie. Everything the API returns (names,
// log lines, error messages a function chose) is put in the page as text, never as HTML.
"use strict";

const tokenKey = "sofaas.token";
const refreshMs = 10000;
// The bill reads a week of ledger files (about 1.4 s for a day of 200,000 records,
// DASHBOARD.md): once a minute, not at every refresh.
const billingEvery = 6;
// Range -> bucket width in seconds: a few hundred points at most (the API allows 1500).
const rangeSteps = { "15m": 15, "1h": 60, "6h": 300, "24h": 900, "7d": 3600 };
const billingDays = 7;

const state = { selected: null, charts: new Map(), timer: null, generation: 0, refreshes: 0 };

// ---- small DOM helpers ------------------------------------------------------------------

function $(id) {
  return document.getElementById(id);
}

// el("td", {class: "x"}, "text", child): children are text or nodes, never markup.
function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
  for (const child of children) node.append(child instanceof Node ? child : String(child ?? ""));
  return node;
}

function fillBody(table, rows, emptyText) {
  const body = table.tBodies[0];
  body.replaceChildren(...rows);
  if (rows.length === 0) {
    const columns = table.tHead.rows[0].cells.length;
    body.append(el("tr", {}, el("td", { colspan: columns, class: "empty" }, emptyText)));
  }
}

function fillList(dl, pairs) {
  dl.replaceChildren(...pairs.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]));
}

function setStatus(text) {
  $("status").textContent = text;
}

// The daemon sends money and GB-seconds as exact decimal strings: shown as they are.
const usd = (n) => String(n);
const gbs = (n) => String(n);

// ---- the control API --------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, type, message) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

async function api(path, token = sessionStorage.getItem(tokenKey)) {
  const response = await fetch(path, {
    headers: { Authorization: "Bearer " + token },
    cache: "no-store",
    credentials: "omit",
  });
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const message = (body && (body.errorMessage || body.message)) || response.statusText || "request failed";
    throw new ApiError(response.status, body && body.errorType, message);
  }
  return body;
}

const fn = (name) => "/v1/functions/" + encodeURIComponent(name);

// ---- sign-in ----------------------------------------------------------------------------

function showSignIn(message) {
  stopRefreshing();
  $("dashboard-view").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in-view").hidden = false;
  const error = $("sign-in-error");
  error.hidden = !message;
  error.textContent = message || "";
  setStatus("");
  $("token").focus();
}

function refusal(error) {
  if (error.status === 401) return "Refused: this is not a valid admin token or key (" + error.message + ").";
  if (error.status === 403) return "Refused: this key is not an admin key. The dashboard needs the admin token or a key of scope admin.";
  return "Cannot sign in: " + error.message;
}

async function signIn(event) {
  event.preventDefault();
  const token = $("token").value.trim();
  if (!token) return;
  try {
    await api("/v1/functions", token);
  } catch (error) {
    showSignIn(error instanceof ApiError ? refusal(error) : "Cannot reach sofaasd: " + error.message);
    return;
  }
  sessionStorage.setItem(tokenKey, token);
  $("token").value = "";
  showDashboard();
}

function signOut() {
  sessionStorage.removeItem(tokenKey);
  state.selected = null;
  showSignIn("");
}

function showDashboard() {
  state.refreshes = 0;  // the bill with the first refresh
  $("sign-in-view").hidden = true;
  $("dashboard-view").hidden = false;
  $("sign-out").hidden = false;
  refreshAll();
}

function stopRefreshing() {
  if (state.timer) clearTimeout(state.timer);
  state.timer = null;
}

async function refreshAll() {
  stopRefreshing();
  const generation = ++state.generation;
  // A hidden tab asks nothing of the daemon; it refreshes when shown again.
  if (document.hidden) return;
  const withBilling = state.refreshes++ % billingEvery === 0;
  try {
    await Promise.all([loadFunctions(), withBilling ? loadBilling() : null,
      state.selected ? loadFunction(state.selected) : null]);
    setStatus("Updated " + new Date().toLocaleTimeString());
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      sessionStorage.removeItem(tokenKey);
      showSignIn(refusal(error));
      return;
    }
    setStatus("Update failed: " + error.message);
  }
  if (generation === state.generation) state.timer = setTimeout(refreshAll, refreshMs);
}

// ---- functions --------------------------------------------------------------------------

async function loadFunctions() {
  const { functions } = await api("/v1/functions");
  const rows = functions.map((spec) => {
    const open = el("button", { type: "button", "data-function": spec.name }, spec.name);
    const row = el("tr", { "data-function": spec.name },
      el("td", {}, open), el("td", {}, spec.version), el("td", {}, spec.memory_mb + " MB"),
      el("td", {}, spec.timeout_s + " s"), el("td", {}, spec.max_concurrency), el("td", {}, spec.auth),
      el("td", {}, spec.routes.map((r) => r.method + " " + r.path).join(", ")));
    if (spec.name === state.selected) row.classList.add("selected");
    row.addEventListener("click", () => selectFunction(spec.name));
    return row;
  });
  fillBody($("function-list"), rows, "No functions deployed yet: sofaas deploy NAME LIBRARY.so");
  if (state.selected && !functions.some((spec) => spec.name === state.selected)) {
    state.selected = null;
    $("function-detail").hidden = true;
  }
}

function selectFunction(name) {
  state.selected = name;
  for (const row of $("function-list").tBodies[0].rows) row.classList.toggle("selected", row.dataset.function === name);
  $("function-detail").hidden = false;
  $("function-detail").dataset.state = "loading";
  $("detail-name").textContent = name;
  refreshAll();
}

async function loadFunction(name) {
  const range = $("range").value;
  const activityPath = fn(name) + "/activity?since=" + range + "&step=" + rangeSteps[range];
  const [described, aliases, activity, logs, deadLetters, queue, schedules] = await Promise.all([
    api(fn(name)),
    api(fn(name) + "/aliases"),
    api(activityPath),
    api(fn(name) + "/logs?tail=200"),
    api(fn(name) + "/dead-letters?limit=50"),
    api(fn(name) + "/queue"),
    api(fn(name) + "/schedules"),
  ]);
  if (name !== state.selected) return;  // another function was chosen meanwhile
  showSettings(described);
  showAliases(aliases.aliases);
  showActivity(activity);
  showLogs(logs.lines);
  showDeadLetters(deadLetters.dead_letters, queue);
  showSchedules(schedules.schedules);
  $("function-detail").dataset.state = "loaded";
}

function showSettings({ function: spec, versions, workers }) {
  const env = Object.keys(spec.env);
  fillList($("settings"), [
    ["Handler", spec.handler || "(default)"],
    ["Memory", spec.memory_mb + " MB"],
    ["Timeout", spec.timeout_s + " s"],
    ["Concurrency", spec.max_concurrency + " (" + spec.min_warm + " kept warm)"],
    ["Auth", spec.auth],
    ["Environment", env.length ? env.join(", ") : "none"],
    ["Async retries", spec.async_retries + ", max age " + spec.max_event_age_s + " s"],
    ["Code", spec.sha256.slice(0, 16) + "… (" + spec.size_bytes + " bytes)"],
    ["Created", spec.created_at],
  ]);
  $("versions").textContent = versions.join(", ") + " ($LATEST is " + spec.version + ")";
  const environments = [["Idle", workers.idle], ["Busy", workers.busy]];
  if (workers.warm_failures) environments.push(["Warm failures", workers.warm_failures + ": " + workers.warm_failure]);
  fillList($("environments"), environments);
}

function showAliases(aliases) {
  const rows = aliases.map((alias) => el("tr", {},
    el("td", {}, alias.name), el("td", {}, alias.version),
    el("td", {}, Object.entries(alias.weights).map(([v, w]) => v + "=" + w).join(", ") || "none")));
  fillBody($("aliases"), rows, "No aliases");
}

// ---- charts -----------------------------------------------------------------------------

const palette = ["#2d6cdf", "#d9480f", "#2b8a3e", "#ae3ec9", "#e67700", "#0b7285"];

// One uPlot chart in `container`, replaced on each refresh. The container exposes what it
// shows: data-points (buckets) and data-total (sum of the first series), for tests and
// for anyone reading the page without the canvas.
function drawChart(container, times, series) {
  const previous = state.charts.get(container.id);
  if (previous) previous.destroy();
  container.replaceChildren();
  const options = {
    width: Math.max(300, container.clientWidth || 400),
    height: 200,
    legend: { show: true },
    scales: { x: { time: true } },
    axes: [{}, { size: 50 }],
    series: [{}].concat(series.map((s, i) => ({
      label: s.label,
      stroke: palette[i % palette.length],
      width: 1.5,
      spanGaps: false,
      points: { show: times.length < 120 },
    }))),
  };
  const chart = new uPlot(options, [times, ...series.map((s) => s.values)], container);
  state.charts.set(container.id, chart);
  const first = series.length ? series[0].values : [];
  container.dataset.points = String(times.length);
  container.dataset.total = String(first.reduce((sum, v) => sum + (v || 0), 0));
}

function showActivity(activity) {
  const buckets = activity.buckets;
  const times = buckets.map((b) => Date.parse(b.start) / 1000);
  const column = (f) => buckets.map(f);
  drawChart($("chart-invocations"), times, [{ label: "invocations", values: column((b) => b.invocations) }]);

  const statuses = [...new Set(buckets.flatMap((b) => Object.keys(b.errors_by_status)))].sort();
  drawChart($("chart-errors"), times, [{ label: "errors", values: column((b) => b.errors) }].concat(
    statuses.map((s) => ({ label: s, values: column((b) => b.errors_by_status[s] || 0) }))));
  drawChart($("chart-throttles"), times, [{ label: "throttles", values: column((b) => b.throttles) }]);
  drawChart($("chart-duration"), times, [
    { label: "p50 ms", values: column((b) => b.duration_p50_ms) },
    { label: "p99 ms", values: column((b) => b.duration_p99_ms) },
  ]);
  drawChart($("chart-cold-starts"), times, [{ label: "cold starts", values: column((b) => b.cold_starts) }]);
}

// ---- logs, dead letters, schedules ------------------------------------------------------

// The platform's line that says why an invocation did not succeed (docs/CLI.md): a function
// error's "ERROR RequestId: ID Invoke Error {...}", a runtime's "RequestId: ID Error: ...",
// a host fault's, a refusal's "Not run", a failed init's INIT_REPORT. Only the platform
// writes platform lines: what a function prints is stdout or stderr.
function isReasonLine(line) {
  if (line.stream !== "platform") return false;
  const message = line.message;
  if (message.startsWith("ERROR ")) return true;
  if (message.startsWith("INIT_REPORT ")) return !message.includes("\tStatus: ok");
  const own = "RequestId: " + line.request_id + " ";
  if (!message.startsWith(own)) return false;
  const rest = message.slice(own.length);
  return rest.startsWith("Error: ") || rest.startsWith("Host fault") || rest.startsWith("Not run: ");
}

// Every line of an invocation that failed is highlighted, its reason most.
function showLogs(lines) {
  const failed = new Set(lines.filter(isReasonLine).map((l) => l.request_id));
  const nodes = lines.map((line) => {
    const classes = ["log-line", line.stream];
    if (failed.has(line.request_id)) classes.push("failure");
    if (isReasonLine(line)) classes.push("error-line");
    return el("div", { class: classes.join(" "), "data-request-id": line.request_id },
      el("span", { class: "time" }, line.time), " ", line.message);
  });
  const logs = $("logs");
  const atBottom = logs.scrollTop + logs.clientHeight >= logs.scrollHeight - 4;
  logs.replaceChildren(...nodes);
  if (nodes.length === 0) logs.append(el("div", { class: "empty" }, "No log lines yet."));
  if (atBottom) logs.scrollTop = logs.scrollHeight;
}

function showDeadLetters(letters, queue) {
  const rows = letters.map((d) => el("tr", {},
    el("td", {}, d.failed_at), el("td", {}, d.request_id), el("td", {}, d.attempts), el("td", {}, d.condition),
    el("td", {}, d.error_type + (d.error_message ? ": " + d.error_message : ""))));
  fillBody($("dead-letters"), rows, "No dead letters");
  $("queue").textContent = queue.events + " queued event" + (queue.events === 1 ? "" : "s") +
    (queue.events ? ", oldest " + Math.round(queue.oldest_age_s) + " s old" : "");
}

function showSchedules(schedules) {
  const rows = schedules.map((s) => el("tr", {},
    el("td", {}, s.id), el("td", {}, s.expression + (s.timezone ? " (" + s.timezone + ")" : "")),
    el("td", {}, s.state), el("td", {}, s.next_fire_at || "-"), el("td", {}, s.fired), el("td", {}, s.missed)));
  fillBody($("schedules"), rows, "No schedules");
}

// ---- billing ----------------------------------------------------------------------------

function utcDay(date) {
  return date.toISOString().slice(0, 10);
}

// The week in one query, and each day in one: the daemon sums money exactly (integer
// pico-dollars, sent as decimal strings), which the page shows and never adds itself.
async function loadBilling() {
  const today = new Date();
  const days = [];
  for (let i = 0; i < billingDays; i++) days.push(utcDay(new Date(today.getTime() - i * 86400000)));
  const [week, ...perDay] = await Promise.all([
    api("/v1/billing?since=" + days[days.length - 1]),
    ...days.map((day, i) => api("/v1/billing?since=" + day + (i > 0 ? "&until=" + days[i - 1] : ""))),
  ]);

  const functionRows = week.functions.concat([Object.assign({}, week.total, { function: "TOTAL" })]).map((r) =>
    el("tr", { "data-function": r.function },
      el("td", {}, r.function), el("td", {}, r.invocations), el("td", {}, r.errors), el("td", {}, r.timeouts),
      el("td", {}, r.cold_starts), el("td", {}, r.billed_ms), el("td", {}, gbs(r.gb_seconds)), el("td", {}, usd(r.cost_usd))));
  fillBody($("billing-functions"), functionRows, "");

  const dayRows = [];
  days.forEach((day, i) => {
    for (const r of perDay[i].functions) {
      dayRows.push(el("tr", {}, el("td", {}, day), el("td", {}, r.function), el("td", {}, r.invocations),
        el("td", {}, r.errors), el("td", {}, gbs(r.gb_seconds)), el("td", {}, usd(r.cost_usd))));
    }
  });
  fillBody($("billing-days"), dayRows, "Nothing billed in the last " + billingDays + " days");
}

// ---- start ------------------------------------------------------------------------------

function start() {
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", signOut);
  $("range").addEventListener("change", () => refreshAll());
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && sessionStorage.getItem(tokenKey) && !$("dashboard-view").hidden) refreshAll();
  });
  window.addEventListener("resize", () => {
    for (const [id, chart] of state.charts) chart.setSize({ width: Math.max(300, $(id).clientWidth), height: 200 });
  });
  if (sessionStorage.getItem(tokenKey)) showDashboard();
  else showSignIn("");
}

document.addEventListener("DOMContentLoaded", start);
