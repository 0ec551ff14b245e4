// The customer page: log in with a customer key, then the key's own appliances (loads): on or
// off now, hours on (or kWh where a meter measures them) today, this month and last month,
// on/off switches for the flexible ones, and the order the site cuts them in when the battery
// is low. One read, GET /api/v1/me/loads, every 10 s; switching goes through the same
// override command as the operators'.
"use strict";

const cust = { key: null, me: null, body: null, timer: null };
const $ = (id) => document.getElementById(id);
const REFRESH_MS = 10 * 1000;
const OVERRIDE_S = 3600;

const api = apiClient(cust, () => logout());

function storedKey() {
  return sessionStorage.getItem("offgrid.key") || localStorage.getItem("offgrid.key");
}

async function login(key, remember) {
  cust.key = key;
  let r;
  try {
    r = await api("/api/v1/me");
  } catch (e) {
    $("login-error").textContent = t("no_server");
    return;
  }
  if (r.status !== 200) {
    $("login-error").textContent = t("bad_key");
    cust.key = null;
    return;
  }
  cust.me = r.body;
  (remember ? localStorage : sessionStorage).setItem("offgrid.key", key);
  $("login-error").textContent = "";
  $("login").classList.add("hidden");
  $("cust").classList.remove("hidden");
  $("logout").classList.remove("hidden");
  await refresh();
  cust.timer = setInterval(refresh, REFRESH_MS);
}

function logout() {
  sessionStorage.removeItem("offgrid.key");
  localStorage.removeItem("offgrid.key");
  clearInterval(cust.timer);
  cust.key = cust.me = cust.body = null;
  $("cust").classList.add("hidden");
  $("login").classList.remove("hidden");
  $("logout").classList.add("hidden");
}

async function refresh() {
  const r = await api("/api/v1/me/loads");
  if (r.status !== 200) return;
  cust.body = r.body;
  window.SITE_TZ = r.body.timezone;
  render();
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function hours(h) {
  return h === null || h === undefined ? "–" : t("cust_hours", { h: num(h, 1) });
}

const PERIODS = ["today", "month", "last_month"];

// A row of a figure for today, this month and last month; "–" where there is no data.
function usageRow(label, u, fmt, known) {
  const tr = el("tr");
  tr.append(el("td", "", label));
  for (const k of PERIODS) tr.append(el("td", "", known && !known[k] ? "–" : fmt(u[k])));
  return tr;
}

function renderLoad(ld) {
  const card = el("section", "card appl");
  card.dataset.testid = `appl-${ld.name}`;
  const head = el("div", "head");
  head.append(el("h3", "", ld.name));
  const word = ld.on === null ? t("cust_unknown") : t(ld.on ? "on" : "off");
  const st = el("span", `state ${ld.on === null ? "" : ld.on ? "on" : "off"}`, word);
  st.dataset.testid = `load-state-${ld.name}`;
  head.append(st);
  card.append(head);
  if (ld.override && ld.override.expires_ts) {
    card.append(el("p", "note", t("cust_until", { t: dateTime(ld.override.expires_ts) })));
  }

  const table = el("table");
  const hr = el("tr");
  hr.append(el("th", "", ""));
  for (const k of PERIODS) hr.append(el("th", "", t(`cust_${k}`)));
  table.append(hr);
  if (ld.kwh) table.append(usageRow(t("cust_kwh"), ld.kwh, (x) => num(x, 1)));
  if (ld.switchable) {
    table.append(usageRow(t("cust_hours_on"), ld.hours_on, hours, ld.hours_known));
  }
  card.append(table);

  const on = ld.hours_on, known = ld.hours_known;
  if (ld.switchable && known.month && known.last_month) {
    card.append(el("p", "note", t("cust_vs_last", {
      a: num(on.month / known.month * 24, 1), b: num(on.last_month / known.last_month * 24, 1),
    })));
  }
  if (!ld.kwh) card.append(el("p", "note", t("cust_not_metered")));
  card.append(el("p", "note", t(ld.can_switch ? "cust_flexible" : "cust_staff_only")));

  if (ld.can_switch) {
    const sw = el("div", "switches");
    for (const turnOn of [true, false]) {
      const b = el("button", turnOn ? "b-on" : "b-off", t(turnOn ? "on" : "off"));
      b.type = "button";
      b.dataset.testid = `switch-${ld.name}-${turnOn ? "on" : "off"}`;
      b.onclick = () => switchLoad(ld.name, turnOn);
      sw.append(b);
    }
    card.append(sw);
    card.append(el("p", "note", t("cust_switch_for")));
  }
  return card;
}

function render() {
  const body = cust.body;
  if (!body) return;
  $("site-name").textContent = body.site;
  document.title = `${t("cust_title")} · ${body.site}`;
  $("who").textContent = `${cust.me.name} · ${t("role_" + cust.me.role)}`;
  const box = $("appliances");
  box.textContent = "";
  if (!body.loads.length) box.append(el("p", "note", t("cust_no_loads")));
  for (const ld of body.loads) box.append(renderLoad(ld));

  const ol = $("shed-list");
  ol.textContent = "";
  const byName = Object.fromEntries(body.loads.map((ld) => [ld.name, ld]));
  for (const name of body.shed_first) {
    const li = el("li", "", `${name} · ${t("cust_shed_rank", {
      k: byName[name].shed_rank, n: body.sheddable })}`);
    li.dataset.testid = `shed-${name}`;
    ol.append(li);
  }
  for (const ld of body.loads.filter((x) => x.shed_rank === null)) {
    ol.append(el("li", "note", `${ld.name} · ${t("cust_never_shed")}`));
  }
  $("shed-none").classList.toggle("hidden", body.shed_first.length > 0);
}

async function switchLoad(name, on) {
  const msg = $("cmd-msg");
  const what = `${name} → ${t(on ? "on" : "off")}`;
  msg.className = "cmd-msg";
  msg.textContent = t("sent", { what });
  let r = await api("/api/v1/commands/override-load",
    { json: { load: name, on, expires_s: OVERRIDE_S } });
  if (r.status === 202 && r.body) {
    msg.textContent = t("queued");
    const deadline = Date.now() + 60 * 1000;
    const url = r.location || `/api/v1/commands/${r.body.id}`;
    while (r.body && r.body.status === "pending" && Date.now() < deadline) {
      await new Promise((ok) => setTimeout(ok, 1000));
      const again = await api(url);
      if (again.status !== 200) break;
      r = { status: 200, body: again.body };
    }
  }
  if (r.status === 200 && r.body.status === "done") {
    msg.textContent = t("done", { what });
    msg.classList.add("good");
  } else if (r.status === 200 && r.body.status !== "pending") {
    msg.textContent = t("rejected", { why: JSON.stringify(r.body.result) });
    msg.classList.add("bad");
  } else if (r.status === 403) {
    msg.textContent = t("forbidden");
    msg.classList.add("bad");
  } else if (r.status !== 200 && r.status !== 202) {
    msg.textContent = (r.body && r.body.detail) || String(r.status);
    msg.classList.add("bad");
  }
  await refresh();
}

function setLang(lang) {
  LANG = lang;
  localStorage.setItem("offgrid.lang", lang);
  $("lang").textContent = lang === "vi" ? "EN" : "VI";
  applyI18n();
  render();
}

$("lang").onclick = () => setLang(LANG === "vi" ? "en" : "vi");
$("logout").onclick = logout;
$("login-form").onsubmit = (e) => {
  e.preventDefault();
  login($("key").value.trim(), $("remember").checked);
};
setLang(LANG);
const saved = storedKey();
if (saved) login(saved, !!localStorage.getItem("offgrid.key"));
