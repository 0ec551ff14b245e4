// Hand-written SVG charts: a half-circle gauge, a time-series line chart and the power-flow
// diagram. No library, no build step; each function redraws its <svg> from plain data.
"use strict";

const SVGNS = "http://www.w3.org/2000/svg";

function el(tag, attrs, text) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function clear(svg) {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
}

function polar(cx, cy, r, frac) {
  const a = Math.PI * (1 - frac);
  return [cx + r * Math.cos(a), cy - r * Math.sin(a)];
}

function arc(cx, cy, r, f0, f1) {
  const [x0, y0] = polar(cx, cy, r, f0);
  const [x1, y1] = polar(cx, cy, r, f1);
  return `M ${x0} ${y0} A ${r} ${r} 0 0 1 ${x1} ${y1}`;
}

// value in [min, max]; zones: [{to, color}] ascending; marks: [{at, label}]
function drawGauge(svg, opts) {
  clear(svg);
  const { value, min, max, unit, zones, marks, digits, quality } = opts;
  const cx = 100, cy = 105, r = 80;
  const frac = (v) => Math.min(1, Math.max(0, (v - min) / (max - min)));
  let from = 0;
  for (const z of zones) {
    svg.appendChild(el("path", { d: arc(cx, cy, r, from, frac(z.to)), stroke: z.color,
      "stroke-width": 16, fill: "none", opacity: 0.28 }));
    from = frac(z.to);
  }
  if (value !== null && value !== undefined) {
    const zone = zones.find((z) => value <= z.to) || zones[zones.length - 1];
    svg.appendChild(el("path", { d: arc(cx, cy, r, 0, Math.max(0.004, frac(value))),
      stroke: zone.color, "stroke-width": 16, fill: "none", "stroke-linecap": "butt" }));
  }
  for (const m of marks || []) {
    const [x0, y0] = polar(cx, cy, r - 12, frac(m.at));
    const [x1, y1] = polar(cx, cy, r + 12, frac(m.at));
    svg.appendChild(el("line", { x1: x0, y1: y0, x2: x1, y2: y1, stroke: "#33415c",
      "stroke-width": 2 }));
  }
  const txt = value === null || value === undefined ? "–" : num(value, digits);
  svg.appendChild(el("text", { x: cx, y: cy - 14, "text-anchor": "middle", class: "g-value",
    "data-value": value === null || value === undefined ? "" : String(value) }, txt));
  svg.appendChild(el("text", { x: cx, y: cy + 6, "text-anchor": "middle", class: "g-unit" },
    quality && quality !== "good" ? `${unit} · ${t(quality)}` : unit));
  svg.appendChild(el("text", { x: 18, y: 124, class: "g-axis" }, num(min, 0)));
  svg.appendChild(el("text", { x: 182, y: 124, "text-anchor": "end", class: "g-axis" },
    num(max, 0)));
}

// series: [{t: [s], v: [..], color, name, fill}], window [t0, t1] in s; bands: [{y, color, label}]
function drawLine(svg, opts) {
  clear(svg);
  const W = 600, H = 240, L = 52, R = 10, T = 16, B = 30;
  const { series, t0, t1, yMin, yMax, bands, digits } = opts;
  let lo = yMin, hi = yMax;
  if (hi === undefined) {
    hi = 1;
    for (const s of series) for (const v of s.v) if (v !== null && v > hi) hi = v;
    const step = niceCeil((hi * 1.05 - lo) / 4);
    hi = lo + 4 * step;
  }
  const x = (ts) => L + ((ts - t0) / (t1 - t0)) * (W - L - R);
  const y = (v) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    svg.appendChild(el("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }));
    svg.appendChild(el("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", class: "axis" },
      num(v, digits || 0)));
  }
  const span = t1 - t0;
  const stepH = [60, 300, 600, 1800, 3600, 7200, 21600].find((st) => span / st <= 6) || 21600;
  for (let h = Math.ceil(t0 / stepH) * stepH; h <= t1; h += stepH) {
    svg.appendChild(el("line", { x1: x(h), x2: x(h), y1: T, y2: H - B, class: "grid" }));
    svg.appendChild(el("text", { x: x(h), y: H - 8, "text-anchor": "middle", class: "axis" },
      clock(h)));
  }
  for (const b of bands || []) {
    if (b.y < lo || b.y > hi) continue;
    svg.appendChild(el("line", { x1: L, x2: W - R, y1: y(b.y), y2: y(b.y), stroke: b.color,
      "stroke-dasharray": "5 4", "stroke-width": 1.5 }));
    svg.appendChild(el("text", { x: W - R - 4, y: y(b.y) - 4, "text-anchor": "end",
      class: "axis", fill: b.color }, b.label));
  }
  for (const s of series) {
    let d = "", pen = false, area = "", first = null, last = null;
    for (let i = 0; i < s.t.length; i++) {
      const v = s.v[i];
      const gap = i > 0 && s.t[i] - s.t[i - 1] > 600;
      if (v === null || gap) pen = false;
      if (v === null) continue;
      d += `${pen ? "L" : "M"}${x(s.t[i]).toFixed(1)},${y(v).toFixed(1)} `;
      if (first === null) first = s.t[i];
      last = s.t[i];
      pen = true;
    }
    if (s.fill && first !== null) {
      area = `${d} L${x(last).toFixed(1)},${y(lo)} L${x(first).toFixed(1)},${y(lo)} Z`;
      svg.appendChild(el("path", { d: area.replace(/M/g, "L").replace(/^L/, "M"),
        fill: s.color, opacity: 0.15, stroke: "none" }));
    }
    svg.appendChild(el("path", { d, fill: "none", stroke: s.color, "stroke-width": 2,
      "stroke-linejoin": "round" }));
    if (s.t.length < 30) {  // a few points: show each one
      s.t.forEach((ts, i) => {
        if (s.v[i] !== null) svg.appendChild(el("circle", { cx: x(ts), cy: y(s.v[i]), r: 3,
          fill: s.color }));
      });
    }
  }
  let lx = L + 6;
  for (const s of series) {
    if (!s.name) continue;
    svg.appendChild(el("rect", { x: lx, y: T, width: 12, height: 12, fill: s.color, rx: 2 }));
    const label = el("text", { x: lx + 16, y: T + 11, class: "axis legend" }, s.name);
    svg.appendChild(label);
    lx += 34 + s.name.length * 10;
  }
  if (!series.some((s) => s.v.some((v) => v !== null))) {
    svg.appendChild(el("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "axis" },
      t("no_data")));
  }
}

function niceCeil(v) {
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

// Small line icons for the flow diagram, drawn around (0, 0) in a 36 × 36 box.
const ICONS = {
  pv: (g, c) => {
    g.appendChild(el("path", { d: "M-15 8 L-9 -10 L15 -10 L9 8 Z", fill: "none", stroke: c,
      "stroke-width": 2.5 }));
    g.appendChild(el("path", { d: "M-12 -1 L12 -1 M-3 -10 L-5 8 M5 -10 L2 8", stroke: c,
      "stroke-width": 1.8 }));
    g.appendChild(el("path", { d: "M0 8 L0 14 M-6 14 L6 14", stroke: c, "stroke-width": 2.5 }));
  },
  bat: (g, c, soc) => {
    g.appendChild(el("rect", { x: -15, y: -9, width: 27, height: 18, rx: 3, fill: "none",
      stroke: c, "stroke-width": 2.5 }));
    g.appendChild(el("rect", { x: 12, y: -4, width: 4, height: 8, fill: c }));
    const w = soc === null ? 0 : Math.max(1, (23 * Math.min(100, Math.max(0, soc))) / 100);
    g.appendChild(el("rect", { x: -13, y: -7, width: w, height: 14, fill: c, opacity: 0.8 }));
  },
  load: (g, c) => {
    g.appendChild(el("path", { d: "M-14 0 L0 -13 L14 0 M-10 -3 L-10 13 L10 13 L10 -3", fill: "none",
      stroke: c, "stroke-width": 2.5, "stroke-linejoin": "round" }));
    g.appendChild(el("rect", { x: -3, y: 4, width: 6, height: 9, fill: c }));
  },
  wind: (g, c) => {  // a three-bladed rotor on its tower
    g.appendChild(el("path", { d: "M0 -2 L0 16 M-5 16 L5 16", stroke: c, "stroke-width": 2.5 }));
    g.appendChild(el("path", { d: "M0 -2 L0 -16 M0 -2 L-12 5 M0 -2 L12 5", stroke: c,
      "stroke-width": 2.5, "stroke-linecap": "round" }));
  },
  gen: (g, c) => {
    g.appendChild(el("rect", { x: -15, y: -9, width: 30, height: 20, rx: 3, fill: "none",
      stroke: c, "stroke-width": 2.5 }));
    g.appendChild(el("path", { d: "M2 -6 L-4 2 L1 2 L-2 8 L5 -1 L0 -1 Z", fill: c }));
    g.appendChild(el("path", { d: "M-10 -13 L-4 -13", stroke: c, "stroke-width": 2.5 }));
  },
};

// f: {pv_w, wind_w, load_w, battery_w, soc_pct, generator_running}; values may be null
// (wind_w is null on a site without turbines: no wind node then).
function drawFlow(svg, f, genKw) {
  clear(svg);
  const kw = (w) => (w === null || w === undefined ? "–" : `${num(w / 1000, 1)} kW`);
  const hub = [280, 130];
  const nodes = {
    pv: { x: 90, y: 60, color: "#f5a623", label: t("pv"), value: kw(f.pv_w) },
    bat: { x: 90, y: 215, color: "#2fa84f", label: t("battery"),
      value: f.soc_pct === null ? "–" : `${num(f.soc_pct, 0)} %` },
    load: { x: 470, y: 60, color: "#2f6fd6", label: t("loads_node"), value: kw(f.load_w) },
  };
  if (f.wind_w !== null && f.wind_w !== undefined) {
    nodes.wind = { x: 280, y: 255, color: "#3aa6a0", label: t("wind"), value: kw(f.wind_w) };
  }
  if (genKw) {
    nodes.gen = { x: 470, y: 215, color: f.generator_running ? "#d0452f" : "#8a94a6",
      label: t("generator"), value: f.generator_running ? t("running") : t("stopped") };
  }
  const link = (n, watts, inbound, id) => {
    const active = watts !== null && watts !== undefined && Math.abs(watts) > 20;
    const [x0, y0] = inbound ? [n.x, n.y] : hub;
    const [x1, y1] = inbound ? hub : [n.x, n.y];
    svg.appendChild(el("line", { x1: x0, y1: y0, x2: x1, y2: y1, stroke: active ? n.color :
      "#c9d1de", "stroke-width": active ? 5 : 3, class: active ? "flowing" : "",
      "data-flow": id }));
  };
  link(nodes.pv, f.pv_w, true, "pv");
  if (nodes.wind) link(nodes.wind, f.wind_w, true, "wind");
  const bw = f.battery_w;
  link(nodes.bat, bw === null ? null : Math.abs(bw), bw !== null && bw < 0, "battery");
  link(nodes.load, f.load_w, false, "load");
  if (nodes.gen) link(nodes.gen, f.generator_running ? 1000 : 0, true, "generator");
  svg.appendChild(el("circle", { cx: hub[0], cy: hub[1], r: 14, fill: "#33415c" }));
  svg.appendChild(el("path", { d: `M${hub[0] + 2} ${hub[1] - 8} L${hub[0] - 5} ${hub[1] + 1}
    L${hub[0]} ${hub[1] + 1} L${hub[0] - 2} ${hub[1] + 8} L${hub[0] + 5} ${hub[1] - 1}
    L${hub[0]} ${hub[1] - 1} Z`, fill: "#fff" }));
  for (const [id, n] of Object.entries(nodes)) {
    const g = el("g", { "data-node": id });
    g.appendChild(el("circle", { cx: n.x, cy: n.y, r: 32, fill: "#fff", stroke: n.color,
      "stroke-width": 3 }));
    const icon = el("g", { transform: `translate(${n.x} ${n.y})` });
    ICONS[id](icon, n.color, f.soc_pct);
    g.appendChild(icon);
    g.appendChild(el("text", { x: n.x, y: n.y + 52, "text-anchor": "middle", class: "n-label" },
      n.label));
    g.appendChild(el("text", { x: n.x, y: n.y + 76, "text-anchor": "middle", class: "n-value",
      "data-testid": `flow-${id}` }, n.value));
    svg.appendChild(g);
  }
  if (bw !== null && bw !== undefined) {
    const state = Math.abs(bw) < 20 ? t("idle") : bw > 0 ? t("charging") : t("discharging");
    svg.appendChild(el("text", { x: 90, y: 312, "text-anchor": "middle", class: "n-sub" },
      `${state} ${kw(Math.abs(bw))}`));
  }
}
