// The fleet dashboard's own strings in Vietnamese and English, added to the site dashboard's
// i18n.js (served as it is, loaded first: STRINGS, LANG, t(), applyI18n(), num() in vi-VN's
// 1.234,5, clock(), and the words both dashboards share, alarm kinds included); and the
// fleet's date formats (dd/mm/yyyy) and relative times.
"use strict";

const FLEET_STRINGS = {
  vi: {
    fleet_title: "Đội trạm offgrid",
    fleet_welcome: "Giám sát các trạm",
    fleet_login_help: "Nhập khóa API của hệ thống trung tâm.",
    scope_all: "tất cả các trạm", scope_province: "tỉnh {n}", scope_group: "nhóm {n}",
    sites: "Các trạm",
    summary: "{n} trạm · {s} mất liên lạc · {a} cảnh báo",
    site: "Trạm", province: "Tỉnh", last_contact: "Liên lạc cuối",
    soc_short: "Pin %", do_short: "Oxy mg/L", alarms_short: "Cảnh báo", outbox_short: "Tồn đọng",
    no_data_mark: "MẤT DỮ LIỆU",
    alarm_no_data: "Mất dữ liệu: trạm im lặng quá lâu",
    never: "chưa bao giờ",
    no_sites: "Không có trạm nào trong phạm vi của khóa này.",
    rows: "{n} bản ghi",
    reliability_by_province: "Độ tin cậy cung cấp điện theo tỉnh",
    reliability_site: "Độ tin cậy cung cấp điện của trạm",
    year: "Năm",
    month_short: "Th{m}",
    month: "Tháng",
    total_year: "Cả năm",
    rel_note: "Mỗi ô: SAIDI (phút) và SAIFI (lần) trong tháng. Chỉ tiêu của chương trình: SAIDI ≤ {saidi} phút/năm, SAIFI ≤ {saifi} lần/năm; ô màu đỏ là vượt chỉ tiêu.",
    energy_by_month: "Năng lượng theo tháng",
    gen_h: "Máy phát giờ", wind_kwh: "Gió kWh",
    back: "← Tất cả các trạm",
    live_on: "đang xem trực tiếp",
    silent_since: "Mất liên lạc từ {t}",
    fig_soc: "Mức sạc pin", fig_do: "Oxy hòa tan", fig_pv: "Mặt trời", fig_load: "Phụ tải",
    fig_alarms: "Cảnh báo", fig_outbox: "Dữ liệu tồn đọng", fig_contact: "Liên lạc cuối",
    fig_customers: "Khách hàng",
    send_command: "Gửi lệnh tới trạm",
    command: "Lệnh", arguments: "Tham số (JSON)", expires_in: "Hết hạn sau", send: "Gửi",
    bad_json: "Tham số không phải JSON hợp lệ.",
    cmd_sent: "Đã gửi lệnh {name}.",
    refused: "Không gửi được: {why}",
    cmd_override_load: "Bật/tắt phụ tải", cmd_set_threshold: "Đặt ngưỡng",
    cmd_generator: "Máy phát", cmd_ack_alarm: "Xác nhận cảnh báo", cmd_planned_cut: "Cắt điện có kế hoạch",
  },
  en: {
    fleet_title: "offgrid fleet",
    fleet_welcome: "Fleet monitoring",
    fleet_login_help: "Enter your fleet API key.",
    scope_all: "all sites", scope_province: "province {n}", scope_group: "group {n}",
    sites: "Sites",
    summary: "{n} sites · {s} silent · {a} alarms",
    site: "Site", province: "Province", last_contact: "Last contact",
    soc_short: "SOC %", do_short: "DO mg/L", alarms_short: "Alarms", outbox_short: "Backlog",
    no_data_mark: "NO DATA",
    alarm_no_data: "No data: the site has been silent too long",
    never: "never",
    no_sites: "No site in this key's scope.",
    rows: "{n} rows",
    reliability_by_province: "Supply reliability by province",
    reliability_site: "Supply reliability of this site",
    year: "Year",
    month_short: "M{m}",
    month: "Month",
    total_year: "Year",
    rel_note: "Each cell: the month's SAIDI (min) and SAIFI (interruptions). The programme's targets: SAIDI ≤ {saidi} min/year, SAIFI ≤ {saifi}/year; a red cell is over its target.",
    energy_by_month: "Energy by month",
    gen_h: "Generator h", wind_kwh: "Wind kWh",
    back: "← All sites",
    live_on: "watching live",
    silent_since: "Silent since {t}",
    fig_soc: "Battery charge", fig_do: "Dissolved oxygen", fig_pv: "PV", fig_load: "Load",
    fig_alarms: "Alarms", fig_outbox: "Backlog", fig_contact: "Last contact",
    fig_customers: "Customers",
    send_command: "Send a command to the site",
    command: "Command", arguments: "Arguments (JSON)", expires_in: "Expires in", send: "Send",
    bad_json: "The arguments are not valid JSON.",
    cmd_sent: "Command {name} sent.",
    refused: "Not sent: {why}",
    cmd_override_load: "Switch a load", cmd_set_threshold: "Set a threshold",
    cmd_generator: "Generator", cmd_ack_alarm: "Acknowledge an alarm", cmd_planned_cut: "Planned cut",
  },
};

Object.assign(STRINGS.vi, FLEET_STRINGS.vi);
Object.assign(STRINGS.en, FLEET_STRINGS.en);
const LOCALE = () => (LANG === "vi" ? "vi-VN" : "en-GB");

// dd/mm/yyyy hh:mm in the programme's time zone (window.SITE_TZ)
function fullDateTime(tsS) {
  return new Intl.DateTimeFormat(LOCALE(), {
    day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit",
    timeZone: window.SITE_TZ || undefined,
  }).format(new Date(tsS * 1000));
}

// "5 minutes ago" / "5 phút trước"
function ago(tsS, nowS) {
  const d = Math.round(tsS - nowS);
  const rtf = new Intl.RelativeTimeFormat(LOCALE(), { numeric: "auto" });
  const a = Math.abs(d);
  if (a < 60) return rtf.format(d, "second");
  if (a < 3600) return rtf.format(Math.round(d / 60), "minute");
  if (a < 86400) return rtf.format(Math.round(d / 3600), "hour");
  return rtf.format(Math.round(d / 86400), "day");
}

// an alarm kind in the page's language (the site dashboard's words), else its name
function alarmName(kind) {
  return STRINGS.en[`alarm_${kind}`] ? t(`alarm_${kind}`) : kind;
}
