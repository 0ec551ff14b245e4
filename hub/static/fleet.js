// The fleet dashboard: log in with a fleet key, then every site in the key's scope (a NO-DATA
// mark on the silent ones), monthly SAIDI/SAIFI per province against the programme's targets,
// monthly energy and diesel, active alarms; a site's page with its charts (the site
// dashboard's charts.js), its reliability and energy, live values while it is open, and
// commands for operators.
"use strict";

const S = {
  key: null, me: null, sites: [], rel: null, energy: null, alarms: [], year: null,
  site: null, fleetTimer: null, siteTimers: [], cmdPolls: {},
};
const $ = (id) => document.getElementById(id);
const api = apiClient(S, () => logout());
const KEY_STORE = "offgrid.fleet.key";
const MONTHS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
const ARGS_EXAMPLE = {
  override_load: { load: "aerators", on: true, expires_s: 3600 },
  set_threshold: { key: "shed_soc_pct", value: 30 },
  generator: { action: "start" },
  ack_alarm: { alarm_id: 1 },
  planned_cut: { action: "start", reason: "" },
};

function nowS() { return Date.now() / 1000; }
function tsOf(iso) { return iso ? Date.parse(iso) / 1000 : null; }
function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const k of kids) if (k !== null && k !== undefined) e.append(k);
  return e;
}
function isOperator() { return S.me && (S.me.role === "operator" || S.me.role === "admin"); }

// ---------------------------------------------------------------------------- login

async function login(key, remember) {
  S.key = key;
  let r;
  try {
    r = await api("/api/v1/me");
  } catch (e) {
    $("login-error").textContent = t("no_server");
    return;
  }
  if (r.status !== 200) {
    $("login-error").textContent = t("bad_key");
    S.key = null;
    return;
  }
  S.me = r.body;
  (remember ? localStorage : sessionStorage).setItem(KEY_STORE, key);
  $("login-error").textContent = "";
  window.SITE_TZ = S.me.tz;
  $("login").classList.add("hidden");
  $("logout").classList.remove("hidden");
  document.body.classList.toggle("can-operate", isOperator() && S.me.can_send);
  renderWho();
  fillYears();
  fillCommands();
  await route();
  S.fleetTimer = setInterval(() => { if (!S.site) loadFleet(); }, 30_000);
}

function logout() {
  sessionStorage.removeItem(KEY_STORE);
  localStorage.removeItem(KEY_STORE);
  clearInterval(S.fleetTimer);
  stopSite();
  S.key = null; S.me = null;
  $("fleet").classList.add("hidden");
  $("site-view").classList.add("hidden");
  $("login").classList.remove("hidden");
  $("logout").classList.add("hidden");
  $("who").textContent = "";
}

function renderWho() {
  if (!S.me) return;
  const sc = S.me.scope;
  const scope = sc.kind === "all" ? t("scope_all") : t(`scope_${sc.kind}`, { n: sc.names.join(", ") });
  $("who").textContent = `${S.me.name} · ${t("role_" + S.me.role)} · ${scope}`;
}

function fillYears() {
  const y = new Date().getFullYear();
  S.year = S.year || y;
  const sel = $("year");
  sel.replaceChildren(...[y, y - 1, y - 2, y - 3].map((v) => h("option", { value: v }, String(v))));
  sel.value = String(S.year);
}

function fillCommands() {
  const sel = $("cmd-name");
  sel.replaceChildren(...(S.me.commands || []).map((n) => h("option", { value: n },
    `${t("cmd_" + n)} (${n})`)));
  $("cmd-args").value = JSON.stringify(ARGS_EXAMPLE[sel.value] || {});
}

// ---------------------------------------------------------------------------- routing

async function route() {
  const m = location.hash.match(/^#\/site\/([a-z0-9_-]+)$/);
  if (m) {
    $("fleet").classList.add("hidden");
    $("site-view").classList.remove("hidden");
    await openSite(m[1]);
  } else {
    stopSite();
    $("site-view").classList.add("hidden");
    $("fleet").classList.remove("hidden");
    await loadFleet();
  }
}

// ---------------------------------------------------------------------------- the fleet

async function loadFleet() {
  const [sites, rel, energy, alarms] = await Promise.all([
    api("/api/v1/sites"), api(`/api/v1/reliability?year=${S.year}`),
    api(`/api/v1/energy?year=${S.year}`), api("/api/v1/alarms")]);
  if (sites.status !== 200) return;
  S.sites = sites.body;
  S.rel = rel.status === 200 ? rel.body : null;
  S.energy = energy.status === 200 ? energy.body : null;
  S.alarms = alarms.status === 200 ? alarms.body : [];
  renderFleet();
}

function renderFleet() {
  renderSites();
  renderProvinces();
  renderEnergy($("energy"), S.energy, (r) => r.level !== "site", true);
  renderAlarms();
}

function lastContact(s) {
  const ts = tsOf(s.last_contact);
  return ts === null ? t("never") : ago(ts, nowS());
}

function renderSites() {
  const now = nowS();
  const silent = S.sites.filter((s) => s.silent).length;
  const alarms = S.sites.reduce((a, s) => a + s.active_alarms, 0);
  $("summary").textContent = t("summary", { n: S.sites.length, s: silent, a: alarms });
  const body = $("sites").tBodies[0];
  if (!S.sites.length) {
    body.replaceChildren(h("tr", {}, h("td", { colspan: 7 }, t("no_sites"))));
    return;
  }
  body.replaceChildren(...S.sites.map((s) => {
    const name = h("td", { class: "sname", "data-label": t("site") }, s.name || s.site,
      s.silent ? h("span", { class: "nodata", "data-testid": `no-data-${s.site}` },
        t("no_data_mark")) : null,
      h("span", { class: "sid" }, s.site));
    const tr = h("tr", { "data-site": s.site, "data-testid": `site-row-${s.site}`,
      class: s.silent ? "silent" : "" },
      name,
      h("td", { "data-label": t("province") }, s.province || "–"),
      h("td", { "data-label": t("last_contact"), title: s.last_contact ?
        fullDateTime(tsOf(s.last_contact)) : "" }, lastContact(s, now)),
      h("td", { class: "num", "data-label": t("soc_short"), "data-testid": `soc-${s.site}` },
        num(s.soc_pct, 0)),
      h("td", { class: "num", "data-label": t("do_short") },
        s.do_mg_l === null ? "–" : num(s.do_mg_l, 1)),
      h("td", { class: "num", "data-label": t("alarms_short") }, s.active_alarms ?
        h("span", { class: "alarm-count" }, num(s.active_alarms, 0)) : "0"),
      h("td", { class: "num", "data-label": t("outbox_short") },
        s.outbox_rows === null ? "–" : num(s.outbox_rows, 0)));
    tr.addEventListener("click", () => { location.hash = `#/site/${s.site}`; });
    return tr;
  }));
}

// A monthly SAIDI/SAIFI table: one row per key of `rows`; the year so far first, then the
// months newest first (what a phone shows without scrolling).
function renderMonthly(table, rows, label, idOf) {
  const keys = [...new Set(rows.map((r) => r.key))];
  const months = MONTHS.filter((m) => rows.some((r) => r.month === m)).reverse();
  const head = h("tr", {}, h("th", {}, ""), h("th", {}, t("total_year")),
    ...months.map((m) => h("th", {}, t("month_short", { m }))));
  const body = keys.map((k) => {
    const byMonth = Object.fromEntries(rows.filter((r) => r.key === k).map((r) => [r.month, r]));
    const first = rows.find((r) => r.key === k);
    return h("tr", { class: first.level === "fleet" ? "total" : "" },
      h("td", {}, label(first)),
      ...[0, ...months].map((m) => relCell(byMonth[m], `${idOf(first)}-${m}`)));
  });
  table.replaceChildren(h("thead", {}, head), h("tbody", {}, ...body));
}

function relCell(r, id) {
  if (!r) return h("td", {}, "–");
  const over = r.saidi_minutes > r.saidi_target_minutes || r.saifi_count > r.saifi_target_count;
  return h("td", { class: over ? "over" : "ok", "data-testid": `rel-${id}`,
    title: `SAIDI ≤ ${num(r.saidi_target_minutes, 1)} · SAIFI ≤ ${num(r.saifi_target_count, 2)}` },
  h("span", { "data-testid": `rel-${id}-saidi` }, num(r.saidi_minutes, 1)),
  h("span", { class: "saifi", "data-testid": `rel-${id}-saifi` }, num(r.saifi_count, 2)));
}

function renderProvinces() {
  const rows = S.rel ? S.rel.rows.filter((r) => r.level !== "site") : [];
  if (!rows.length) {
    $("rel-provinces").replaceChildren(h("tbody", {}, h("tr", {}, h("td", {}, t("no_data")))));
  } else {
    renderMonthly($("rel-provinces"), rows,
      (r) => (r.level === "fleet" ? t("scope_all") : r.name),
      (r) => (r.level === "fleet" ? "fleet" : r.key));
  }
  const year = S.rel && S.rel.rows.find((r) => r.month === 0);
  $("rel-note").textContent = t("rel_note", {
    saidi: num(year ? year.saidi_target_minutes : 150, 0),
    saifi: num(year ? year.saifi_target_count : 3, 0) });
}

function renderEnergy(table, energy, keep, withProvince) {
  const rows = energy ? energy.rows.filter(keep) : [];
  if (!rows.length) {
    table.replaceChildren(h("tbody", {}, h("tr", {}, h("td", {}, t("no_data")))));
    return;
  }
  const wind = rows.some((r) => r.wind_kwh > 0);
  const cols = [["pv_kwh", "pv_kwh", 1], ...(wind ? [["wind_kwh", "wind_kwh", 1]] : []),
    ["load_kwh", "load_kwh", 1], ["generator_kwh", "gen_kwh", 1], ["generator_h", "gen_h", 1]];
  const head = h("tr", {}, h("th", {}, t("month")),
    withProvince ? h("th", { class: "left" }, t("province")) : null,
    ...cols.map(([, label]) => h("th", {}, t(label))));
  // the year so far first, then the months newest first; the whole scope before provinces
  const order = (r) => (r.month === 0 ? 0 : 13 - r.month) * 10 + (r.level === "fleet" ? 0 : 1);
  const body = [...rows].sort((a, b) => order(a) - order(b) || a.key.localeCompare(b.key))
    .map((r) => h("tr", { class: r.level === "fleet" || r.month === 0 ? "total" : "" },
      h("td", {}, r.month === 0 ? t("total_year") : t("month_short", { m: r.month })),
      withProvince ? h("td", { class: "left" }, r.level === "fleet" ? t("scope_all") : r.name)
        : null,
      ...cols.map(([k, , d]) => h("td", {}, num(r[k], d)))));
  table.replaceChildren(h("thead", {}, head), h("tbody", {}, ...body));
}

function renderAlarms() {
  const ul = $("alarms");
  if (!S.alarms.length) {
    ul.replaceChildren(h("li", { class: "ok" }, t("no_alarms")));
    return;
  }
  ul.replaceChildren(...S.alarms.map((a) => h("li", { class: `sev-${a.severity}` },
    h("span", { class: "msg" }, `${a.name || a.site} · ${alarmName(a.kind)}`),
    h("span", { class: "when" }, `${a.detail ? a.detail + " · " : ""}${t("since",
      { t: fullDateTime(tsOf(a.since)) })}`))));
}

// ---------------------------------------------------------------------------- one site

function stopSite() {
  S.siteTimers.forEach(clearInterval);
  S.siteTimers = [];
  Object.values(S.cmdPolls).forEach(clearInterval);
  S.cmdPolls = {};
  S.site = null;
}

async function openSite(id) {
  stopSite();
  S.site = { id, row: null, series: null, commands: [] };
  const r = await api(`/api/v1/sites/${id}`);
  if (r.status !== 200) {
    location.hash = "";
    return;
  }
  S.site.row = r.body;
  if (!S.rel || !S.energy) {
    const [rel, energy] = await Promise.all([api(`/api/v1/reliability?year=${S.year}`),
      api(`/api/v1/energy?year=${S.year}`)]);
    S.rel = rel.status === 200 ? rel.body : null;
    S.energy = energy.status === 200 ? energy.body : null;
  }
  renderSite();
  await Promise.all([loadSeries(), loadCommands()]);
  keepLive();
  S.siteTimers.push(setInterval(keepLive, 30_000));
  S.siteTimers.push(setInterval(refreshSite, 10_000));
  S.siteTimers.push(setInterval(loadSeries, 300_000));
}

async function keepLive() {
  if (!S.site || !S.me.can_send) return;
  const r = await api(`/api/v1/sites/${S.site.id}/live`, { method: "POST" });
  $("site-live").textContent = r.status === 200 ? `● ${t("live_on")}` : "";
}

async function refreshSite() {
  if (!S.site) return;
  const r = await api(`/api/v1/sites/${S.site.id}`);
  if (r.status === 200 && S.site) {
    S.site.row = r.body;
    renderSiteHead();
  }
}

function renderSite() {
  renderSiteHead();
  const id = S.site.id;
  const rows = S.rel ? S.rel.rows.filter((r) => r.level === "site" && r.key === id) : [];
  if (rows.length) renderMonthly($("rel-site"), rows, () => S.site.row.name || id, () => id);
  else $("rel-site").replaceChildren(h("tbody", {}, h("tr", {}, h("td", {}, t("no_data")))));
  renderEnergy($("energy-site"), S.energy, (r) => r.level === "site" && r.key === id, false);
  renderCharts();
  renderCommands();
}

function renderSiteHead() {
  const s = S.site.row;
  $("site-title").replaceChildren(s.name || s.site, s.silent ? h("span",
    { class: "nodata", "data-testid": "site-no-data" }, t("no_data_mark")) : "");
  const groups = s.groups && s.groups.length ? ` · ${s.groups.join(", ")}` : "";
  $("site-sub").textContent = `${s.site} · ${s.province || "–"}${groups}` +
    (s.silent ? ` · ${t("silent_since", { t: fullDateTime(tsOf(s.last_contact)) })}` : "");
  const fig = (k, v) => h("div", { class: "fig" }, h("div", { class: "k" }, t(k)),
    h("div", { class: "v" }, v));
  const kw = (w) => (w === null ? "–" : `${num(w / 1000, 1)} kW`);
  $("site-figures").replaceChildren(
    fig("fig_contact", lastContact(s)),
    fig("fig_soc", s.soc_pct === null ? "–" : `${num(s.soc_pct, 0)} %`),
    s.do_mg_l === null ? "" : fig("fig_do", `${num(s.do_mg_l, 1)} mg/L`),
    fig("fig_pv", kw(s.pv_w)), fig("fig_load", kw(s.load_w)),
    fig("fig_alarms", num(s.active_alarms, 0)),
    fig("fig_outbox", s.outbox_rows === null ? "–" : t("rows", { n: num(s.outbox_rows, 0) })),
    fig("fig_customers", num(s.customers, 0)));
}

async function loadSeries() {
  if (!S.site) return;
  const r = await api(`/api/v1/sites/${S.site.id}/series?hours=24&step_s=300`);
  if (r.status === 200 && S.site) {
    S.site.series = r.body;
    renderCharts();
  }
}

function renderCharts() {
  const d = S.site.series;
  const t1 = d ? tsOf(d.until) : nowS();
  const t0 = d ? tsOf(d.since) : t1 - 86400;
  const get = (k) => (d && d.series[k] ? d.series[k] : { t: [], v: [] });
  const kw = (s) => ({ t: s.t, v: s.v.map((v) => (v === null ? null : v / 1000)) });
  drawLine($("chart-power"), { t0, t1, yMin: 0, digits: 1, series: [
    { ...kw(get("pv_w")), color: "#f5a623", name: t("pv_series"), fill: true },
    { ...kw(get("load_w")), color: "#2f6fd6", name: t("load_series") }] });
  drawLine($("chart-soc"), { t0, t1, yMin: 0, yMax: 100, series: [
    { ...get("soc_pct"), color: "#2fa84f", fill: true }] });
  const dox = get("do_mg_l");
  const ponds = S.site.row.do_mg_l !== null || dox.v.some((v) => v !== null);
  $("fig-do").classList.toggle("hidden", !ponds);
  if (ponds) drawLine($("chart-do"), { t0, t1, yMin: 0, digits: 1, series: [
    { ...dox, color: "#1b9aaa" }] });
}

// ---------------------------------------------------------------------------- commands

async function loadCommands() {
  if (!S.site) return;
  const r = await api(`/api/v1/sites/${S.site.id}/commands?limit=10`);
  if (r.status === 200 && S.site) {
    S.site.commands = r.body;
    renderCommands();
    S.site.commands.filter((c) => c.outcome === "sent").forEach((c) => pollCommand(c.id));
  }
}

function commandText(c) {
  const at = fullDateTime(tsOf(c.outcome_at));
  return (c.outcome_text[LANG] || c.outcome_text.en).replace("{at}", at);
}

function renderCommands() {
  const list = S.site ? S.site.commands : [];
  $("cmd-list").replaceChildren(...list.map((c) => h("li", { class: c.outcome,
    "data-testid": `cmd-${c.id}`, "data-outcome": c.outcome },
  h("b", {}, `${t("cmd_" + c.name)} `), h("code", {}, JSON.stringify(c.args)),
  ` · ${fullDateTime(tsOf(c.issued))} · ${commandText(c)}${c.detail ? " · " + c.detail : ""}`)));
}

function pollCommand(id) {
  if (S.cmdPolls[id]) return;
  S.cmdPolls[id] = setInterval(async () => {
    const r = await api(`/api/v1/commands/${id}`);
    if (r.status !== 200 || !S.site) return;
    const i = S.site.commands.findIndex((c) => c.id === id);
    if (i >= 0) S.site.commands[i] = r.body;
    renderCommands();
    if (r.body.outcome !== "sent") {
      clearInterval(S.cmdPolls[id]);
      delete S.cmdPolls[id];
    }
  }, 3000);
}

async function sendCommand(ev) {
  ev.preventDefault();
  const msg = $("cmd-msg");
  let args;
  try {
    args = JSON.parse($("cmd-args").value || "{}");
  } catch (e) {
    msg.className = "cmd-msg bad";
    msg.textContent = t("bad_json");
    return;
  }
  const name = $("cmd-name").value;
  const r = await api(`/api/v1/sites/${S.site.id}/commands`, { json: {
    name, args, expiry_s: Number($("cmd-expiry").value) } });
  if (r.status === 202) {
    msg.className = "cmd-msg good";
    msg.textContent = t("cmd_sent", { name: t("cmd_" + name) });
    S.site.commands.unshift(r.body);
    renderCommands();
    pollCommand(r.body.id);
  } else {
    msg.className = "cmd-msg bad";
    msg.textContent = r.status === 403 ? t("forbidden") :
      t("refused", { why: (r.body && r.body.detail) || r.status });
  }
}

// ---------------------------------------------------------------------------- wiring

function setLangButton() { $("lang").textContent = LANG === "vi" ? "EN" : "VI"; }

function rerender() {
  applyI18n();
  setLangButton();
  renderWho();
  if (!S.me) return;
  fillCommands();
  if (S.site && S.site.row) renderSite();
  else if (S.sites) renderFleet();
}

$("lang").addEventListener("click", () => {
  LANG = LANG === "vi" ? "en" : "vi";
  localStorage.setItem("offgrid.lang", LANG);
  rerender();
});
$("login-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  login($("key").value.trim(), $("remember").checked);
});
$("logout").addEventListener("click", logout);
$("back").addEventListener("click", () => { location.hash = ""; });
$("year").addEventListener("change", async () => {
  S.year = Number($("year").value);
  await loadFleet();
});
$("cmd-name").addEventListener("change", () => {
  $("cmd-args").value = JSON.stringify(ARGS_EXAMPLE[$("cmd-name").value] || {});
});
$("cmd-form").addEventListener("submit", sendCommand);
window.addEventListener("hashchange", () => { if (S.me) route(); });

applyI18n();
setLangButton();
const saved = sessionStorage.getItem(KEY_STORE) || localStorage.getItem(KEY_STORE);
if (saved) login(saved, !!localStorage.getItem(KEY_STORE));
