// Dashboard strings in Vietnamese and English. `t(key, vars)` fills {name} placeholders.
"use strict";

const STRINGS = {
  vi: {
    welcome: "Giám sát từ xa",
    login_help: "Nhập khóa API của bạn.",
    api_key: "Khóa API",
    remember: "Ghi nhớ trên thiết bị này",
    login: "Đăng nhập",
    logout: "Đăng xuất",
    bad_key: "Khóa không hợp lệ hoặc đã bị thu hồi.",
    no_server: "Không kết nối được máy chủ.",
    live: "Trực tiếp",
    offline: "Mất kết nối",
    updated: "cập nhật {s} giây trước",
    power_flow: "Dòng năng lượng",
    pv: "Điện mặt trời",
    battery: "Pin lưu trữ",
    loads_node: "Phụ tải",
    generator: "Máy phát",
    charging: "đang sạc",
    discharging: "đang xả",
    idle: "nghỉ",
    running: "đang chạy",
    stopped: "đã tắt",
    soc: "Mức sạc pin",
    do: "Oxy hòa tan",
    water: "nước {t} °C",
    shed_at: "cắt tải dưới {v}%",
    gen_at: "máy phát dưới {v}%",
    do_low_at: "báo động dưới {v} mg/L",
    active_alarms: "Cảnh báo",
    no_alarms: "Không có cảnh báo nào.",
    ack: "Xác nhận",
    acked: "đã xác nhận",
    since: "từ {t}",
    loads: "Quạt nước và phụ tải",
    aerators_on: "{n}/{m} quạt đang chạy",
    on: "Bật",
    off: "Tắt",
    for_1h: "trong 1 giờ",
    override: "ghi đè đến {t}",
    critical: "ưu tiên",
    gen_ctl: "Máy phát",
    start: "Khởi động",
    stop: "Dừng",
    auto: "Tự động",
    sent: "Đã gửi lệnh: {what}",
    done: "Bộ điều khiển đã thực hiện: {what}",
    rejected: "Bộ điều khiển từ chối: {why}",
    queued: "Lệnh đang chờ bộ điều khiển…",
    forbidden: "Khóa của bạn không có quyền này.",
    last_24h: "24 giờ qua",
    chart_power: "Mặt trời và phụ tải (kW)",
    chart_soc: "Mức sạc pin (%)",
    chart_do: "Oxy hòa tan (mg/L)",
    pv_series: "Mặt trời",
    load_series: "Phụ tải",
    daily_energy: "Năng lượng hằng ngày",
    date: "Ngày",
    pv_kwh: "Mặt trời kWh",
    load_kwh: "Phụ tải kWh",
    gen_kwh: "Máy phát kWh",
    soc_range: "SOC thấp–cao %",
    aerator_h: "Giờ chạy quạt",
    do_min: "DO thấp nhất",
    no_data: "Chưa có dữ liệu.",
    devices: "Thiết bị",
    online: "trực tuyến",
    stale: "dữ liệu cũ",
    unknown: "chưa rõ",
    role_viewer: "người xem",
    role_operator: "vận hành",
    role_admin: "quản trị",
    missing: "không có dữ liệu",
    invalid: "không hợp lệ",
  },
  en: {
    welcome: "Remote monitoring",
    login_help: "Enter your API key.",
    api_key: "API key",
    remember: "Remember on this device",
    login: "Log in",
    logout: "Log out",
    bad_key: "Unknown or revoked key.",
    no_server: "Cannot reach the server.",
    live: "Live",
    offline: "Offline",
    updated: "updated {s} s ago",
    power_flow: "Power flow",
    pv: "Solar",
    battery: "Battery",
    loads_node: "Loads",
    generator: "Generator",
    charging: "charging",
    discharging: "discharging",
    idle: "idle",
    running: "running",
    stopped: "off",
    soc: "Battery charge",
    do: "Dissolved oxygen",
    water: "water {t} °C",
    shed_at: "sheds below {v}%",
    gen_at: "generator below {v}%",
    do_low_at: "alarm below {v} mg/L",
    active_alarms: "Alarms",
    no_alarms: "No active alarms.",
    ack: "Acknowledge",
    acked: "acknowledged",
    since: "since {t}",
    loads: "Aerators and loads",
    aerators_on: "{n} of {m} aerators running",
    on: "On",
    off: "Off",
    for_1h: "for 1 hour",
    override: "override until {t}",
    critical: "critical",
    gen_ctl: "Generator",
    start: "Start",
    stop: "Stop",
    auto: "Auto",
    sent: "Command sent: {what}",
    done: "Done by the controller: {what}",
    rejected: "Refused by the controller: {why}",
    queued: "Waiting for the controller…",
    forbidden: "Your key may not do this.",
    last_24h: "Last 24 hours",
    chart_power: "Solar and load (kW)",
    chart_soc: "Battery charge (%)",
    chart_do: "Dissolved oxygen (mg/L)",
    pv_series: "Solar",
    load_series: "Load",
    daily_energy: "Daily energy",
    date: "Date",
    pv_kwh: "Solar kWh",
    load_kwh: "Load kWh",
    gen_kwh: "Generator kWh",
    soc_range: "SOC min–max %",
    aerator_h: "Aerator hours",
    do_min: "Min DO",
    no_data: "No data yet.",
    devices: "Devices",
    online: "online",
    stale: "stale",
    unknown: "unknown",
    role_viewer: "viewer",
    role_operator: "operator",
    role_admin: "admin",
    missing: "no data",
    invalid: "invalid",
  },
};

let LANG = localStorage.getItem("offgrid.lang") || "vi";

function t(key, vars) {
  let s = (STRINGS[LANG] && STRINGS[LANG][key]) || STRINGS.en[key] || key;
  for (const [k, v] of Object.entries(vars || {})) s = s.replace(`{${k}}`, v);
  return s;
}

function applyI18n(root) {
  document.documentElement.lang = LANG;
  (root || document).querySelectorAll("[data-i18n]").forEach((el) => {
    el.textContent = t(el.dataset.i18n);
  });
  (root || document).querySelectorAll("[data-i18n-ph]").forEach((el) => {
    el.placeholder = t(el.dataset.i18nPh);
  });
}

function num(x, digits) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  return new Intl.NumberFormat(LANG === "vi" ? "vi-VN" : "en-GB", {
    minimumFractionDigits: digits, maximumFractionDigits: digits,
  }).format(x);
}

function clock(tsS) {
  return new Intl.DateTimeFormat(LANG === "vi" ? "vi-VN" : "en-GB", {
    hour: "2-digit", minute: "2-digit", timeZone: window.SITE_TZ || undefined,
  }).format(new Date(tsS * 1000));
}
