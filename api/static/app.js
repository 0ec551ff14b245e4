// The dashboard: log in with an API key, then live status over Server-Sent Events (read with
// fetch, so the key travels in a header and never in a URL), 24-hour charts, daily energy,
// supply reliability against the programme's targets, and operator controls for operators and
// admins.
"use strict";

const state = {
  key: null, me: null, site: null, status: null, lastEvent: 0, charts: null,
  streamAbort: null, timers: [],
};

const $ = (id) => document.getElementById(id);

const api = apiClient(state, () => logout());

// ---------------------------------------------------------------------------- login

function storedKey() {
  return sessionStorage.getItem("offgrid.key") || localStorage.getItem("offgrid.key");
}

async function login(key, remember) {
  state.key = key;
  let r;
  try {
    r = await api("/api/v1/me");
  } catch (e) {
    $("login-error").textContent = t("no_server");
    return false;
  }
  if (r.status !== 200) {
    $("login-error").textContent = t("bad_key");
    state.key = null;
    return false;
  }
  state.me = r.body;
  (remember ? localStorage : sessionStorage).setItem("offgrid.key", key);
  $("login-error").textContent = "";
  if (state.me.role === "customer") {  // a customer sees its own page, not the site's
    location.replace("/static/customer.html");
    return true;
  }
  await start();
  return true;
}

function logout() {
  sessionStorage.removeItem("offgrid.key");
  localStorage.removeItem("offgrid.key");
  if (state.streamAbort) state.streamAbort.abort();
  state.timers.forEach(clearInterval);
  state.timers = [];
  state.key = null;
  $("dash").classList.add("hidden");
  $("login").classList.remove("hidden");
  $("logout").classList.add("hidden");
  $("who").textContent = "";
  setLive(false);
}

function isOperator() {
  return state.me && (state.me.role === "operator" || state.me.role === "admin");
}

// ---------------------------------------------------------------------------- start

async function start() {
  $("login").classList.add("hidden");
  $("dash").classList.remove("hidden");
  $("logout").classList.remove("hidden");
  document.body.classList.toggle("can-operate", isOperator());
  $("who").textContent = `${state.me.name} · ${t("role_" + state.me.role)}`;
  const site = await api("/api/v1/site");
  state.site = site.body;
  window.SITE_TZ = state.site.timezone;
  $("site-name").textContent = state.site.name;
  document.title = `${state.site.name} · offgrid`;
  const st = await api("/api/v1/status?points=false");
  if (st.status === 200) render(st.body);
  stream();
  loadCharts();
  loadEnergy();
  loadDevices();
  loadReliability();
  state.timers.push(setInterval(loadCharts, 60 * 1000));
  state.timers.push(setInterval(loadReliability, 5 * 60 * 1000));
  state.timers.push(setInterval(loadEnergy, 15 * 60 * 1000));
  state.timers.push(setInterval(loadDevices, 60 * 1000));
  state.timers.push(setInterval(tickLive, 1000));
}

async function stream() {
  const ctl = new AbortController();
  state.streamAbort = ctl;
  try {
    const r = await fetch("/api/v1/stream?points=false", { headers: { "X-API-Key": state.key },
      signal: ctl.signal });
    if (r.status === 401) { logout(); return; }
    const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let i;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const chunk = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const ev = { event: "message", data: "" };
        for (const line of chunk.split("\n")) {
          if (line.startsWith("event:")) ev.event = line.slice(6).trim();
          else if (line.startsWith("data:")) ev.data += line.slice(5).trim();
        }
        state.lastEvent = Date.now();
        if (ev.event === "status") render(JSON.parse(ev.data));
      }
    }
  } catch (e) {
    if (ctl.signal.aborted) return;
  }
  if (!ctl.signal.aborted && state.key) setTimeout(stream, 5000);
}

function setLive(on, text) {
  $("live").classList.toggle("off", !on);
  $("live-text").textContent = text || (on ? t("live") : t("offline"));
}

function tickLive() {
  if (!state.status) return;
  const connected = Date.now() - state.lastEvent < 45000;
  // The newest figure tells the data's age (a pumping site without a battery has no SOC).
  const tss = Object.values(state.status.figures).map((f) => f && f.ts).filter((x) => x);
  const age = tss.length ? Math.max(0, Date.now() / 1000 - Math.max(...tss)) : null;
  setLive(connected && age !== null && age < 120,
    age === null ? t("offline") : `${connected ? t("live") : t("offline")} · ${t("updated",
      { s: num(age, 0) })}`);
}

// ---------------------------------------------------------------------------- render

function fig(name) {
  const f = state.status && state.status.figures[name];
  return f && f.value !== null && f.value !== undefined ? f.value : null;
}

function render(status) {
  state.status = status;
  const c = state.site.control;
  // A site without a battery (or without aerators) shows no empty battery (or oxygen) gauge.
  $("gauge-soc").parentElement.classList.toggle("hidden",
    state.site.battery_kwh === null && status.figures.soc_pct.quality === "missing");
  $("gauge-do").parentElement.classList.toggle("hidden",
    !state.site.loads.some((ld) => ld.kind === "aerator") && status.figures.do_mg_l.quality === "missing");
  drawFlow($("flow"), {
    pv_w: fig("pv_w"), wind_w: fig("wind_w"), load_w: fig("load_w"), battery_w: fig("battery_w"),
    soc_pct: fig("soc_pct"), generator_running: fig("generator_running"),
  }, state.site.generator_kw);
  drawGauge($("gauge-soc"), {
    value: fig("soc_pct"), min: 0, max: 100, unit: "%", digits: 0,
    quality: status.figures.soc_pct.quality,
    zones: [{ to: c.gen_start_soc_pct, color: "#d0452f" }, { to: c.shed_soc_pct, color: "#f5a623" },
      { to: 100, color: "#2fa84f" }].sort((a, b) => a.to - b.to),
    marks: [{ at: c.shed_soc_pct }, { at: c.gen_start_soc_pct }],
  });
  $("soc-note").textContent = `${t("shed_at", { v: num(c.shed_soc_pct, 0) })} · ${
    t("gen_at", { v: num(c.gen_start_soc_pct, 0) })}`;
  drawGauge($("gauge-do"), {
    value: fig("do_mg_l"), min: 0, max: 10, unit: "mg/L", digits: 1,
    quality: status.figures.do_mg_l.quality,
    zones: [{ to: c.do_low_alarm_mg_l, color: "#d0452f" }, { to: c.do_on_mg_l, color: "#f5a623" },
      { to: 10, color: "#1b9aaa" }],
    marks: [{ at: c.do_low_alarm_mg_l }, { at: c.do_on_mg_l }],
  });
  const wt = fig("water_temp_c");
  $("do-note").textContent = `${t("do_low_at", { v: num(c.do_low_alarm_mg_l, 1) })}${
    wt === null ? "" : " · " + t("water", { t: num(wt, 1) })}`;
  renderTank(status);
  renderAlarms(status.active_alarms);
  renderLoads(status.loads);
  renderGenerator(status);
  renderController(status.controller);
  tickLive();
}

// The water tank (a site with a water pump): its level in % and m³ against the reserve and the
// high-level stop, the water pumped today and, while the pump runs, its flow and power. The
// tank's size and levels come from /api/v1/site `tank` (the site file's [tank]); without them
// the gauge shows the level alone, when the controller publishes one.
function renderTank(status) {
  const tank = state.site.tank || null;
  const level = status.figures.tank_level_pct;
  const show = tank !== null || (level !== undefined && level.quality !== "missing");
  $("tank-box").classList.toggle("hidden", !show);
  if (!show) return;
  const pct = fig("tank_level_pct");
  const lo = tank ? tank.min_level_pct : 0;
  const hi = tank ? tank.max_level_pct : 100;
  drawGauge($("gauge-tank"), {
    value: pct, min: 0, max: 100, unit: "%", digits: 0,
    quality: level ? level.quality : "missing",
    zones: [{ to: lo, color: "#d0452f" }, { to: hi, color: "#1b9aaa" }, { to: 100, color: "#f5a623" }],
    marks: tank ? [{ at: lo }, { at: hi }] : [],
  });
  const parts = [];
  if (tank && pct !== null) parts.push(t("tank_m3", { v: num(tank.m3 * pct / 100, 1), m: num(tank.m3, 0) }));
  if (tank) parts.push(t("tank_reserve", { v: num(lo, 0) }));
  $("tank-note").textContent = parts.join(" · ");
  const today = fig("water_today_m3");
  const flow = fig("water_m3_h");
  const pumpW = fig("pump_w");
  const running = pumpW !== null && pumpW > 0;
  $("water-today").textContent = `${t("water_today", { v: num(today, 1) })}${
    running ? " · " + t("pump_now", { q: num(flow, 1), kw: num(pumpW / 1000, 2) }) : ""}`;
}

// The controller's heartbeat: a banner when it is older than two cycles (the API decides).
function renderController(ctl) {
  const el = $("controller-down");
  el.classList.toggle("hidden", !ctl || ctl.running);
  if (ctl && !ctl.running) {
    el.textContent = ctl.age_s === null ? t("controller_never")
      : t("controller_down", { s: num(ctl.age_s, 0) });
  }
}

function renderAlarms(alarms) {
  const ul = $("alarms");
  ul.textContent = "";
  if (!alarms.length) {
    const li = document.createElement("li");
    li.className = "ok";
    li.textContent = t("no_alarms");
    ul.appendChild(li);
    return;
  }
  for (const a of alarms.slice().reverse()) {
    const li = document.createElement("li");
    li.className = `sev-${a.severity}`;
    const msg = document.createElement("span");
    msg.className = "msg";
    // The kind in the reader's language (i18n.js names every kind of store.contract.ALARMS),
    // then the controller's detail.
    msg.textContent = `${t("alarm_" + a.kind)}: ${a.message}`;
    const when = document.createElement("span");
    when.className = "when";
    when.textContent = `${t("since", { t: clock(a.raised_ts) })}${a.acked_ts ? " · " +
      t("acked") : ""}`;
    li.append(msg, when);
    if (!a.acked_ts) {
      const b = document.createElement("button");
      b.className = "op small";
      b.textContent = t("ack");
      b.onclick = () => command(`/api/v1/alarms/${a.id}/ack`, {}, `${t("ack")}: ${a.message}`);
      li.appendChild(b);
    }
    ul.appendChild(li);
  }
}

function renderLoads(loads) {
  const aer = loads.find((l) => l.kind === "aerator");
  const box = $("aerators");
  box.textContent = "";
  if (aer) {
    const row = document.createElement("div");
    row.className = "wheels";
    for (let i = 0; i < aer.units; i++) {
      const w = document.createElement("span");
      const on = aer.units_on !== null && i < aer.units_on;
      w.className = `wheel ${on ? "on" : "off"}`;
      w.setAttribute("data-testid", "aerator-unit");
      w.title = `${aer.name} ${i + 1}`;
      row.appendChild(w);
    }
    const cap = document.createElement("div");
    cap.className = "wheels-cap";
    cap.textContent = aer.units_on === null ? `${aer.name}: ${t("missing")}` :
      t("aerators_on", { n: aer.units_on, m: aer.units });
    box.append(row, cap);
  }
  const table = $("loads");
  table.textContent = "";
  for (const l of loads) {
    const tr = document.createElement("tr");
    tr.setAttribute("data-load", l.name);
    const name = document.createElement("td");
    name.textContent = l.name + (l.critical ? ` · ${t("critical")}` : "");
    const st = document.createElement("td");
    st.className = `state ${l.on === null ? "unknown" : l.on ? "on" : "off"}`;
    st.setAttribute("data-testid", `load-state-${l.name}`);
    st.textContent = l.on === null ? t("missing") : l.kind === "aerator" ?
      `${l.units_on}/${l.units}` : l.on ? t("on") : t("off");
    if (l.override && l.override.expires_ts) {
      st.title = t("override", { t: clock(l.override.expires_ts) });
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = t("override_short");
      st.appendChild(badge);
    }
    const ctl = document.createElement("td");
    ctl.className = "op";
    if (l.switchable) {
      for (const on of [true, false]) {
        const b = document.createElement("button");
        b.className = `small ${on ? "b-on" : "b-off"}`;
        b.textContent = t(on ? "on" : "off");
        b.title = t("for_1h");
        b.setAttribute("data-testid", `switch-${l.name}-${on ? "on" : "off"}`);
        b.onclick = () => command("/api/v1/commands/override-load",
          { load: l.name, on, expires_s: 3600 }, `${l.name} → ${t(on ? "on" : "off")}`);
        ctl.appendChild(b);
      }
    }
    tr.append(name, st, ctl);
    table.appendChild(tr);
  }
}

function renderGenerator(status) {
  const box = $("gen");
  box.textContent = "";
  if (!state.site.generator_kw) return;
  const label = document.createElement("span");
  const running = fig("generator_running");
  label.textContent = `${t("gen_ctl")} ${num(state.site.generator_kw, 0)} kW: ${
    running === null ? t("missing") : running ? t("running") : t("stopped")}${
    status.generator_mode ? " · " + status.generator_mode : ""}`;
  box.appendChild(label);
  const ops = document.createElement("span");
  ops.className = "op";
  for (const action of ["start", "stop", "auto"]) {
    const b = document.createElement("button");
    b.className = "small";
    b.textContent = t(action);
    b.onclick = () => command("/api/v1/commands/generator", { action },
      `${t("gen_ctl")} → ${t(action)}`);
    ops.appendChild(b);
  }
  box.appendChild(ops);
}

async function command(path, json, what) {
  const msg = $("cmd-msg");
  msg.className = "cmd-msg";
  msg.textContent = t("sent", { what });
  const r = await api(path, { json });
  if (r.status === 200 && r.body.status === "done") {
    msg.textContent = t("done", { what });
    msg.classList.add("good");
  } else if (r.status === 200) {
    msg.textContent = t("rejected", { why: JSON.stringify(r.body.result) });
    msg.classList.add("bad");
  } else if (r.status === 202) {
    msg.textContent = t("queued");
  } else if (r.status === 403) {
    msg.textContent = t("forbidden");
    msg.classList.add("bad");
  } else {
    msg.textContent = (r.body && r.body.detail) || String(r.status);
    msg.classList.add("bad");
  }
}

// ---------------------------------------------------------------------------- history

async function series(figure, t0, t1) {
  const sources = state.site.figures[figure] || [];
  const out = new Map();
  const params = new URLSearchParams({ from: new Date(t0 * 1000).toISOString(),
    to: new Date(t1 * 1000).toISOString(), resolution: "1m" });
  const parts = await Promise.all(sources.map((s) => api(`/api/v1/history/${s}?${params}`)));
  for (const p of parts) {
    if (p.status !== 200) continue;
    p.body.t.forEach((ts, i) => {
      const v = p.body.avg[i];
      if (v === null) return;
      out.set(ts, (out.get(ts) || 0) + v);
    });
  }
  const ts = [...out.keys()].sort((a, b) => a - b);
  return { t: ts, v: ts.map((k) => out.get(k)) };
}

async function loadCharts() {
  const t1 = Date.now() / 1000;
  let t0 = t1 - 86400;
  const [pv, load, soc, dox] = await Promise.all(
    ["pv_w", "load_w", "soc_pct", "do_mg_l"].map((f) => series(f, t0, t1)));
  // A site that has run for less than a day: show the time it has run, not empty space.
  const first = Math.min(...[pv, load, soc, dox].filter((s) => s.t.length).map((s) => s.t[0]));
  if (Number.isFinite(first) && first > t0 + 3600) {
    t0 = Math.max(t0, first - Math.max(60, 0.05 * (t1 - first)));
  }
  const c = state.site.control;
  const kw = (s) => ({ t: s.t, v: s.v.map((v) => v / 1000) });
  drawLine($("chart-power"), { t0, t1, yMin: 0, digits: 0, series: [
    Object.assign(kw(pv), { color: "#f5a623", name: t("pv_series"), fill: true }),
    Object.assign(kw(load), { color: "#2f6fd6", name: t("load_series") })] });
  drawLine($("chart-soc"), { t0, t1, yMin: 0, yMax: 100, series: [
    Object.assign(soc, { color: "#2fa84f", fill: true })],
    bands: [{ y: c.shed_soc_pct, color: "#e08a00", label: t("shed_at", { v: num(c.shed_soc_pct, 0) }) },
      { y: c.gen_start_soc_pct, color: "#d0452f", label: t("gen_at", { v: num(c.gen_start_soc_pct, 0) }) }] });
  drawLine($("chart-do"), { t0, t1, yMin: 0, yMax: 10, digits: 0, series: [
    Object.assign(dox, { color: "#1b9aaa", fill: true })],
    bands: [{ y: c.do_low_alarm_mg_l, color: "#d0452f", label: t("do_low_at", { v: num(c.do_low_alarm_mg_l, 1) }) }] });
}

async function loadEnergy() {
  loadLoadEnergy();
  const r = await api("/api/v1/energy/daily?" + new URLSearchParams({
    from: new Date(Date.now() - 7 * 86400000).toISOString() }));
  const table = $("energy");
  table.textContent = "";
  // Energy by category, as the controller measured it for the whole site (source "site").
  const cats = [["pv", "pv_kwh"], ["load", "load_kwh"], ["battery_charge", "charge_kwh"],
    ["battery_discharge", "discharge_kwh"], ["generator", "gen_kwh"]];
  const head = ["date", ...cats.map((c) => c[1]), "soc_range", "aerator_h", "do_min"];
  const tr = document.createElement("tr");
  for (const h of head) {
    const th = document.createElement("th");
    th.textContent = t(h);
    tr.appendChild(th);
  }
  table.appendChild(tr);
  const rows = r.status === 200 ? r.body.slice().reverse() : [];
  if (!rows.length) {
    const row = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = head.length;
    td.textContent = t("no_data");
    row.appendChild(td);
    table.appendChild(row);
  }
  let integrated = false;
  for (const d of rows) {
    const row = document.createElement("tr");
    const cells = [[d.date, ""]];
    for (const [cat] of cats) {
      const methods = d.methods[cat] || [];
      const est = methods.includes("integrated");
      integrated = integrated || est;
      cells.push([num(d[`${cat}_kwh`], 1) + (est ? " *" : ""),
        methods.map((m) => t(`method_${m}`)).join(" + ")]);
    }
    cells.push([`${num(d.soc_min_pct, 0)}–${num(d.soc_max_pct, 0)}`, ""],
      [num(d.aerator_h, 1), ""], [num(d.do_min_mg_l, 1), ""]);
    for (const [text, title] of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      if (title) td.title = title;
      row.appendChild(td);
    }
    table.appendChild(row);
  }
  if (integrated) {
    const row = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = head.length;
    td.className = "note";
    td.textContent = t("energy_note");
    row.appendChild(td);
    table.appendChild(row);
  }
}

// Each metered load's energy per local day (the site file's meters: [[devices]] measures).
async function loadLoadEnergy() {
  const r = await api("/api/v1/loads/energy?" + new URLSearchParams({
    from: new Date(Date.now() - 7 * 86400000).toISOString() }));
  const box = $("load-energy-box");
  const table = $("load-energy");
  const loads = r.status === 200 ? Object.keys(r.body.meters).sort() : [];
  box.hidden = !loads.length;
  table.textContent = "";
  if (!loads.length) return;
  const tr = document.createElement("tr");
  for (const h of [t("date"), ...loads]) {
    const th = document.createElement("th");
    th.textContent = h;
    tr.appendChild(th);
  }
  table.appendChild(tr);
  for (const d of r.body.days.slice().reverse()) {
    const row = document.createElement("tr");
    const cells = [[d.date, ""], ...loads.map((n) => [
      num(d.loads[n], 2) + ((d.methods[n] || []).includes("integrated") ? " *" : ""),
      (d.methods[n] || []).map((m) => t(`method_${m}`)).join(" + ")])];
    for (const [text, title] of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      if (title) td.title = title;
      row.appendChild(td);
    }
    table.appendChild(row);
  }
}

// ---------------------------------------------------------------------------- reliability

// One cell: the figure, coloured against its target (the year's, or 1/12 of it for a month;
// none for MAIFI) with a bar, and its planned and unplanned parts below.
function relCell(id, value, target, digits, parts) {
  const td = document.createElement("td");
  const ratio = target > 0 ? value / target : 0;
  td.className = target > 0 ? `rel ${ratio > 1 ? "over" : ratio > 0.8 ? "near" : "ok"}` : "rel";
  if (ratio > 1) td.title = t("over_target");
  const v = document.createElement("span");
  v.className = "v";
  v.setAttribute("data-testid", id);
  v.textContent = num(value, digits);
  td.appendChild(v);
  if (target > 0) {
    const bar = document.createElement("span");
    bar.className = "relbar";
    const fill = document.createElement("span");
    fill.style.width = `${Math.min(ratio, 1) * 100}%`;
    bar.appendChild(fill);
    td.appendChild(bar);
  }
  if (parts) {
    const p = document.createElement("span");
    p.className = "parts";
    for (const [key, x] of parts) {
      const s = document.createElement("span");
      s.setAttribute("data-testid", `${id}-${key}`);
      s.textContent = `${t(key)} ${num(x, digits)}`;
      p.appendChild(s);
    }
    td.appendChild(p);
  }
  return td;
}

async function loadReliability() {
  const r = await api("/api/v1/reliability");
  if (r.status !== 200) return;
  const rel = r.body;
  const table = $("reliability");
  table.textContent = "";
  const head = document.createElement("tr");
  for (const h of ["period", "saidi_head", "saifi_head", "maifi_head", "curtail_head"]) {
    const th = document.createElement("th");
    th.textContent = t(h);
    head.appendChild(th);
  }
  table.appendChild(head);
  const rows = [[rel.year_to_date, t("year_to_date", { y: rel.year }), 1, "rel-ytd"],
    ...rel.months.slice().reverse().map((m) => [m, monthName(m.period), 12,
      `rel-${m.period}`])];
  for (const [p, label, share, id] of rows) {
    const tr = document.createElement("tr");
    if (share === 1) tr.className = "ytd";
    const name = document.createElement("td");
    name.textContent = label;
    const curtail = document.createElement("td");
    curtail.className = "rel";
    const hours = document.createElement("span");
    hours.className = "v";
    hours.setAttribute("data-testid", `${id}-curtail`);
    hours.textContent = num(p.curtailment_hours, 1);
    const count = document.createElement("span");
    count.className = "parts";
    count.textContent = t("curtailments", { n: num(p.curtailments, 0) });
    curtail.append(hours, count);
    tr.append(name,
      relCell(`${id}-saidi`, p.saidi_minutes, rel.saidi_target_minutes / share, 1,
        [["planned", p.saidi_planned_minutes], ["unplanned", p.saidi_unplanned_minutes]]),
      relCell(`${id}-saifi`, p.saifi_count, rel.saifi_target_count / share, 2,
        [["planned", p.saifi_planned_count], ["unplanned", p.saifi_unplanned_count]]),
      relCell(`${id}-maifi`, p.maifi_count, 0, 2, null),
      curtail);
    table.appendChild(tr);
  }
  $("reliability-note").textContent = t("rel_note", {
    saidi: num(rel.saidi_target_minutes, 0), saifi: num(rel.saifi_target_count, 0),
    n: num(rel.customers_served, 0), m: num(rel.momentary_minutes, 0) });
  const cut = rel.planned_cut;
  $("planned-cut").classList.toggle("hidden", !cut);
  $("planned-cut").textContent = cut ? t("cut_in_progress", { t: dateTime(cut.start_ts),
    reason: cut.reason, end: dateTime(cut.ends_by_ts) }) : "";
  $("cut-start").classList.toggle("hidden", !!cut);
  $("cut-reason").classList.toggle("hidden", !!cut);
  $("cut-end").classList.toggle("hidden", !cut);
}

async function plannedCut(action) {
  const reason = $("cut-reason").value.trim();
  if (action === "start" && !reason) {
    $("cut-reason").focus();
    return;
  }
  await command("/api/v1/commands/planned-cut", action === "start" ? { action, reason } :
    { action }, t(action === "start" ? "cut_start" : "cut_end"));
  $("cut-reason").value = "";
  loadReliability();
}

async function loadDevices() {
  const r = await api("/api/v1/devices");
  if (r.status !== 200) return;
  const ul = $("devices");
  ul.textContent = "";
  for (const d of r.body) {
    const li = document.createElement("li");
    li.className = `dev ${d.health}`;
    li.textContent = `${d.name} · ${t(d.health) || d.health}`;
    const why = d.alarm || d.error;
    li.title = `${d.driver} ${d.bus} #${d.unit_id}${why ? " — " + why : ""}`;
    ul.appendChild(li);
  }
}

// ---------------------------------------------------------------------------- boot

function setLang(lang) {
  LANG = lang;
  localStorage.setItem("offgrid.lang", lang);
  $("lang").textContent = lang === "vi" ? "EN" : "VI";
  applyI18n();
  if (state.status) {
    $("who").textContent = `${state.me.name} · ${t("role_" + state.me.role)}`;
    render(state.status);
    loadCharts();
    loadEnergy();
    loadDevices();
    loadReliability();
  }
}

$("lang").onclick = () => setLang(LANG === "vi" ? "en" : "vi");
$("logout").onclick = logout;
$("cut-form").onsubmit = (e) => {
  e.preventDefault();
  plannedCut("start");
};
$("cut-end").onclick = () => plannedCut("end");
$("login-form").onsubmit = (e) => {
  e.preventDefault();
  login($("key").value.trim(), $("remember").checked);
};
setLang(LANG);
const saved = storedKey();
if (saved) login(saved, !!localStorage.getItem("offgrid.key"));
