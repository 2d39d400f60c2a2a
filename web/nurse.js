// The nurse station: a ward's bed grid (latest vitals, NEWS2, IV bag, device, 15-minute
// sparklines), its alarm list with acknowledge / resolve, and a patient view with history
// charts. Live from the ward's SSE stream; after a reconnect it resumes with Last-Event-ID and
// then re-reads the alarm list and the snapshot, so nothing raised meanwhile is missed.

import {
  Session, Stream, ApiProblem, age, el, languageToggle, t, texts, translatePage,
} from "/web/common.js";
import { setUpPush } from "/web/push.js";

texts({
  "nurse.title": ["간호 스테이션", "Nurse station"],
  "nurse.signin": ["직원 로그인", "Staff sign-in"],
  "nurse.ward": ["병동", "Ward"],
  "nurse.beds": ["병상", "Beds"],
  "nurse.alarms": ["알람", "Alarms"],
  "nurse.no_alarms": ["열린 알람 없음", "No open alarms"],
  "nurse.no_wards": ["볼 수 있는 병동이 없습니다", "No ward to watch"],
  "nurse.reconnecting": ["연결 끊김 — 다시 연결 중", "Connection lost — reconnecting"],
  "nurse.alarm_history": ["알람 이력 · 조치 기록", "Alarm history · action log"],
  "nurse.medications": ["투약", "Medication"],
  "nurse.empty_bed": ["빈 병상", "Empty bed"],
  "nurse.ack": ["확인", "Acknowledge"],
  "nurse.resolve": ["해결", "Resolve"],
  "nurse.resolve_note": ["조치 내용", "Action taken"],
  "nurse.resolve_confirm": ["해결 기록", "Record resolution"],
  "nurse.note_required": ["조치 내용을 적어 주세요", "Write the action taken"],
  "nurse.mute": ["♪ 소리 켜짐", "♪ Sound on"],
  "nurse.unmute": ["✕ 소리 꺼짐", "✕ Muted"],
  "nurse.device_ok": ["기기 정상", "Device OK"],
  "nurse.device_silent": ["기기 응답 없음", "Device silent"],
  "nurse.device_none": ["기기 없음", "No device"],
  "nurse.iv": ["수액", "IV"],
  "nurse.meds": ["투약 {done}/{all}", "Meds {done}/{all}"],
  "nurse.no_data": ["자료 없음", "No data"],
  "close": ["닫기", "Close"],
  "band.low": ["낮음", "Low"],
  "band.low_medium": ["낮음-중간 (단일 3점)", "Low-medium (single 3)"],
  "band.medium": ["중간", "Medium"],
  "band.high": ["높음", "High"],
  "prio.high": ["높음", "High"],
  "prio.medium": ["중간", "Medium"],
  "prio.low": ["낮음", "Low"],
  "status.active": ["활성", "Active"],
  "status.acknowledged": ["확인됨", "Acknowledged"],
  "status.resolved": ["해결됨", "Resolved"],
  "med.to_do": ["투약 전", "To do"],
  "med.done": ["투약 완료", "Delivered"],
  "kind.heart_rate": ["심박수", "Heart rate"],
  "kind.respiratory_rate": ["호흡수", "Resp. rate"],
  "kind.spo2": ["산소포화도", "SpO2"],
  "kind.body_temperature": ["체온", "Temperature"],
  "kind.systolic_bp": ["수축기 혈압", "Systolic BP"],
  "kind.diastolic_bp": ["이완기 혈압", "Diastolic BP"],
  "kind.iv_bag": ["수액 잔량", "IV bag"],
  "kind.nurse_call": ["간호사 호출", "Nurse call"],
  "kind.battery": ["배터리", "Battery"],
  "alarm.fever": ["발열", "Fever"],
  "alarm.hypothermia": ["저체온", "Hypothermia"],
  "alarm.low_spo2": ["산소포화도 저하", "Low SpO2"],
  "alarm.bradycardia": ["서맥", "Bradycardia"],
  "alarm.tachycardia": ["빈맥", "Tachycardia"],
  "alarm.bradypnoea": ["서호흡", "Bradypnoea"],
  "alarm.tachypnoea": ["빈호흡", "Tachypnoea"],
  "alarm.hypotension": ["저혈압", "Hypotension"],
  "alarm.news2_medium": ["NEWS2 중위험", "NEWS2 medium"],
  "alarm.news2_high": ["NEWS2 고위험", "NEWS2 high"],
  "alarm.iv_bag_low": ["수액 부족", "IV bag low"],
  "alarm.iv_bag_empty": ["수액 소진", "IV bag empty"],
  "alarm.nurse_call": ["간호사 호출", "Nurse call"],
  "alarm.device_silent": ["기기 응답 없음", "Device silent"],
  "alarm.sensor_off": ["센서 분리", "Sensor off"],
  "alarm.battery_low": ["배터리 부족", "Battery low"],
});

// The vitals a tile shows, in order, with their display unit.
const TILE_KINDS = [
  ["heart_rate", "/min"], ["respiratory_rate", "/min"], ["spo2", "%"],
  ["body_temperature", "°C"], ["systolic_bp", "mmHg"],
];
const CHART_KINDS = ["heart_rate", "respiratory_rate", "spo2", "body_temperature", "systolic_bp", "diastolic_bp"];
const SPARK_WINDOW_MS = 15 * 60 * 1000;
const DEVICE_SILENT_MS = 90 * 1000;
const PRIORITY_RANK = { high: 0, medium: 1, low: 2 };
const PRIORITY_ICON = { high: "▲▲▲", medium: "▲▲", low: "▲" };
const MUTE_KEY = "docde.nurse.muted";

const session = new Session("staff");
const $ = (id) => document.getElementById(id);

const state = {
  wardId: null,
  beds: new Map(), // bed id → live bed (from the snapshot)
  series: new Map(), // bed id → kind → [[ms, value]]
  alarms: [],
  meds: new Map(), // admission id → medicines
  stream: null,
  seenAlarms: new Set(),
  detail: null, // {bed, range}
};

let audio = null;
function beep() {
  if (localStorage.getItem(MUTE_KEY) === "1") return;
  try {
    audio = audio || new AudioContext();
    const now = audio.currentTime;
    // IEC 60601-1-8's high-priority burst is a pattern of pulses; three short ones suffice here.
    for (let i = 0; i < 3; i++) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.2, now + i * 0.25);
      gain.gain.setValueAtTime(0, now + i * 0.25 + 0.15);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + i * 0.25);
      osc.stop(now + i * 0.25 + 0.16);
    }
  } catch { /* no audio device: the list still shows it */ }
}

function renderMute() {
  const muted = localStorage.getItem(MUTE_KEY) === "1";
  $("mute").textContent = t(muted ? "nurse.unmute" : "nurse.mute");
  $("mute").setAttribute("aria-pressed", String(muted));
}

function fmt(kind, value) {
  if (value === undefined || value === null) return "—";
  if (kind === "body_temperature") return value.toFixed(1);
  return String(Math.round(value));
}

// ---------------------------------------------------------------------------------------------
// Sign-in and ward choice.

async function start() {
  translatePage();
  languageToggle($("lang"), renderAll);
  renderMute();
  $("mute").addEventListener("click", () => {
    localStorage.setItem(MUTE_KEY, localStorage.getItem(MUTE_KEY) === "1" ? "0" : "1");
    renderMute();
  });
  $("signout").addEventListener("click", () => session.signOut());
  session.onSignedOut = () => location.reload();
  $("signin").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("signin-error").textContent = "";
    // A user gesture: the only moment browsers let a page start audio.
    try { audio = audio || new AudioContext(); } catch { /* none */ }
    try {
      await session.signIn({ email: $("email").value.trim(), password: $("password").value });
      await enter();
    } catch (err) {
      $("signin-error").textContent = `${t("signin.failed")}: ${err.message}`;
    }
  });
  $("detail-close").addEventListener("click", () => { state.detail = null; $("detail").close(); });
  for (const b of document.querySelectorAll("[data-range]")) {
    b.addEventListener("click", () => { state.detail.range = Number(b.dataset.range); loadDetail(); });
  }
  setInterval(renderAlarms, 10_000); // ages
  if (session.signedIn) enter().catch(showSignIn);
  else showSignIn();
}

function showSignIn() {
  $("signin-view").hidden = false;
  $("station").hidden = true;
}

async function enter() {
  const { items: wards } = await session.call("GET", "/api/v1/me/wards");
  // Not awaited: the ward must not wait for the browser's push service.
  setUpPush(session, $("push"), (err) => window.alert(err.message))
    .catch(() => { $("push").hidden = true; });
  $("signin-view").hidden = true;
  $("station").hidden = false;
  $("signout").hidden = false;
  const select = $("ward");
  select.replaceChildren(...wards.map((w) => el("option", { value: w.id }, w.name)));
  const wanted = new URLSearchParams(location.search).get("ward");
  if (wanted && !wards.some((w) => w.id === wanted)) select.append(el("option", { value: wanted }, wanted));
  $("ward-picker").hidden = false;
  select.onchange = () => openWard(select.value);
  const first = wanted || wards[0]?.id;
  if (!first) {
    $("beds").replaceChildren(el("p", { class: "muted" }, t("nurse.no_wards")));
    return;
  }
  select.value = first;
  await openWard(first);
}

// ---------------------------------------------------------------------------------------------
// The ward: snapshot, stream, alarms.

async function openWard(wardId) {
  state.stream?.stop();
  state.wardId = wardId;
  state.beds.clear();
  state.series.clear();
  state.meds.clear();
  state.seenAlarms.clear();
  const url = new URL(location.href);
  url.searchParams.set("ward", wardId);
  history.replaceState(null, "", url);
  const snapshot = await loadSnapshot();
  await loadAlarms(true);
  seedSparklines();
  state.stream = new Stream(`/api/v1/wards/${wardId}/events`, {
    token: async () => {
      // A token about to expire is refreshed before a (re)connect.
      if (session.state && session.state.expires_at - Date.now() < 30_000) await session.refresh().catch(() => {});
      return session.token;
    },
    lastEventId: snapshot.last_event_id,
    onEvent: onWardEvent,
    onDown: () => { $("banner").hidden = false; },
    onOpen: async ({ resumed }) => {
      $("banner").hidden = true;
      // What the replay cannot tell (alarms closed by the system, NEWS2 now) is re-read.
      if (resumed) { await loadAlarms(false).catch(() => {}); await loadSnapshot().catch(() => {}); }
    },
  });
}

async function loadSnapshot() {
  const snapshot = await session.call("GET", `/api/v1/wards/${state.wardId}/beds/live`);
  state.beds = new Map(snapshot.beds.map((b) => [b.bed.id, b]));
  for (const b of snapshot.beds) {
    for (const l of b.latest) pushPoint(b.bed.id, l.kind, l.measured_at, l.value);
    const adm = b.bed.admission;
    if (adm && !state.meds.has(adm.id)) loadMeds(adm.id);
  }
  renderBeds();
  return snapshot;
}

async function loadMeds(admissionId) {
  try {
    const { items } = await session.call("GET", `/api/v1/admissions/${admissionId}/medications`);
    state.meds.set(admissionId, items);
    renderBeds();
  } catch { /* shown as unknown */ }
}

async function seedSparklines() {
  const from = new Date(Date.now() - SPARK_WINDOW_MS).toISOString();
  for (const b of state.beds.values()) {
    const adm = b.bed.admission;
    if (!adm) continue;
    for (const [kind] of TILE_KINDS) {
      session.call("GET", `/api/v1/admissions/${adm.id}/vitals?kind=${kind}&from=${encodeURIComponent(from)}&points=30`)
        .then((h) => { for (const p of h.points) pushPoint(b.bed.id, kind, p.at, p.mean); renderBed(b.bed.id); })
        .catch(() => {});
    }
  }
}

async function loadAlarms(initial) {
  const { items } = await session.call("GET", `/api/v1/wards/${state.wardId}/alarms`);
  const fresh = items.filter((a) => !state.seenAlarms.has(a.id));
  for (const a of items) state.seenAlarms.add(a.id);
  if (!initial && fresh.some((a) => a.priority === "high")) beep();
  state.alarms = items;
  renderAlarms();
  renderBeds();
}

let snapshotTimer = null;
function refreshSnapshotSoon() {
  clearTimeout(snapshotTimer);
  snapshotTimer = setTimeout(() => loadSnapshot().catch(() => {}), 400);
}
let alarmTimer = null;
function refreshAlarmsSoon() {
  clearTimeout(alarmTimer);
  alarmTimer = setTimeout(() => loadAlarms(false).catch(() => {}), 100);
}

function onWardEvent({ event, data }) {
  let payload;
  try { payload = JSON.parse(data); } catch { return; }
  switch (event) {
    case "vitals": {
      const bed = state.beds.get(payload.bed_id);
      if (bed) {
        for (const s of payload.samples) {
          const i = bed.latest.findIndex((l) => l.kind === s.kind);
          const latest = { ...s, device_id: payload.device_id };
          if (i < 0) bed.latest.push(latest);
          else if (Date.parse(bed.latest[i].measured_at) <= Date.parse(s.measured_at)) bed.latest[i] = latest;
          pushPoint(payload.bed_id, s.kind, s.measured_at, s.value);
        }
        renderBed(payload.bed_id);
      }
      refreshSnapshotSoon(); // NEWS2 is the server's to compute
      break;
    }
    case "alarm":
    case "alarm_update":
      if (event === "alarm" && payload.priority === "high" && !state.seenAlarms.has(payload.alarm_id)) {
        state.seenAlarms.add(payload.alarm_id);
        beep();
      }
      refreshAlarmsSoon();
      if (state.detail) loadDetail();
      break;
    case "medication":
      if (payload.admission_id) loadMeds(payload.admission_id);
      break;
    default:
      refreshSnapshotSoon();
  }
}

function pushPoint(bedId, kind, at, value) {
  if (!state.series.has(bedId)) state.series.set(bedId, new Map());
  const byKind = state.series.get(bedId);
  const list = byKind.get(kind) || [];
  const ms = Date.parse(at);
  if (!list.some(([m]) => m === ms)) list.push([ms, value]);
  list.sort((a, b) => a[0] - b[0]);
  const cutoff = Date.now() - SPARK_WINDOW_MS;
  byKind.set(kind, list.filter(([m]) => m >= cutoff));
}

// ---------------------------------------------------------------------------------------------
// Rendering.

function renderAll() {
  renderMute();
  renderBeds();
  renderAlarms();
  if (state.detail) loadDetail();
}

function renderBeds() {
  const container = $("beds");
  const beds = [...state.beds.values()].sort((a, b) => a.bed.label.localeCompare(b.bed.label));
  const existing = new Map([...container.children].map((c) => [c.dataset.bedId, c]));
  container.replaceChildren(...beds.map((b) => existing.get(b.bed.id) || el("article", { class: "bed", "data-bed-id": b.bed.id })));
  for (const b of beds) renderBed(b.bed.id);
}

function sparkline(points) {
  const w = 120, h = 28;
  if (points.length < 2) return el("span", { class: "spark empty" });
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.setAttribute("class", "spark");
  svg.setAttribute("aria-hidden", "true");
  const now = Date.now();
  const values = points.map(([, v]) => v);
  const lo = Math.min(...values), hi = Math.max(...values);
  const span = hi - lo || 1;
  const d = points.map(([ms, v], i) => {
    const x = ((ms - (now - SPARK_WINDOW_MS)) / SPARK_WINDOW_MS) * w;
    const y = h - 2 - ((v - lo) / span) * (h - 4);
    return `${i ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`;
  }).join(" ");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", d);
  svg.append(path);
  return svg;
}

function renderBed(bedId) {
  const b = state.beds.get(bedId);
  const tile = document.querySelector(`.bed[data-bed-id="${bedId}"]`);
  if (!b || !tile) return;
  const adm = b.bed.admission;
  const latest = new Map(b.latest.map((l) => [l.kind, l]));
  const series = state.series.get(bedId) || new Map();
  const open = state.alarms.filter((a) => a.bed_id === bedId);
  const worst = open.map((a) => a.priority).sort((x, y) => PRIORITY_RANK[x] - PRIORITY_RANK[y])[0];
  const band = b.news2?.band;
  tile.className = `bed${adm ? "" : " empty"}${band ? ` band-${band}` : ""}${worst ? ` alarm-${worst}` : ""}`;
  const children = [
    el("header", {},
      el("h3", {}, b.bed.label),
      b.news2
        ? el("span", { class: `news2 band-${band}`, "data-news2": b.news2.total },
          `NEWS2 ${b.news2.total} · ${t(`band.${band}`)}${b.news2.complete ? "" : " *"}`)
        : null,
      worst ? el("span", { class: `badge prio-${worst}` }, `${PRIORITY_ICON[worst]} ${open.length}`) : null),
  ];
  if (!adm) {
    children.push(el("p", { class: "muted" }, t("nurse.empty_bed")));
  } else {
    const rows = TILE_KINDS.map(([kind, unit]) => {
      const l = latest.get(kind);
      let value = fmt(kind, l?.value);
      if (kind === "systolic_bp" && latest.get("diastolic_bp")) value += `/${fmt("diastolic_bp", latest.get("diastolic_bp").value)}`;
      return el("div", { class: "vital", "data-kind": kind },
        el("span", { class: "name" }, t(`kind.${kind}`)),
        el("span", { class: "value" }, value),
        el("span", { class: "unit" }, unit),
        sparkline(series.get(kind) || []));
    });
    const iv = latest.get("iv_bag");
    const lastSeen = Math.max(0, ...b.latest.filter((l) => l.kind !== "nurse_call").map((l) => Date.parse(l.measured_at)));
    const device = !b.latest.length ? "none" : (Date.now() - lastSeen > DEVICE_SILENT_MS ? "silent" : "ok");
    const meds = state.meds.get(adm.id);
    children.push(
      el("div", { class: "vitals" }, rows),
      el("footer", {},
        el("span", { class: "iv", "data-kind": "iv_bag" }, `${t("nurse.iv")} `,
          el("meter", { min: 0, max: 100, low: 21, optimum: 100, value: iv?.unit === "mL" ? "" : (iv?.value ?? "") }),
          ` ${iv ? `${fmt("iv_bag", iv.value)}${iv.unit === "mL" ? " mL" : "%"}` : "—"}`),
        el("span", { class: `device device-${device}`, "data-device": device },
          device === "ok" ? "● " : "○ ", t(`nurse.device_${device}`)),
        meds && meds.length
          ? el("span", { class: "meds" }, t("nurse.meds", { done: meds.filter((m) => m.status === "done").length, all: meds.length }))
          : null),
    );
    tile.tabIndex = 0;
    tile.setAttribute("role", "button");
    tile.onclick = () => openDetail(bedId);
    tile.onkeydown = (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); openDetail(bedId); } };
  }
  tile.replaceChildren(...children);
}

function bedLabel(bedId) {
  return state.beds.get(bedId)?.bed.label ?? "?";
}

function renderAlarms() {
  const list = $("alarms");
  const alarms = [...state.alarms].sort((a, b) =>
    PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] || Date.parse(a.raised_at) - Date.parse(b.raised_at));
  $("alarm-count").textContent = alarms.length ? `(${alarms.length})` : "";
  $("no-alarms").hidden = alarms.length > 0;
  // Keep an item whose resolve form is open, so typing is not lost on a refresh.
  const editing = new Map([...list.querySelectorAll("li.editing")].map((li) => [li.dataset.alarmId, li]));
  list.replaceChildren(...alarms.map((a) => editing.get(a.id) || alarmItem(a)));
}

function alarmItem(a) {
  const li = el("li", { class: `alarm prio-${a.priority} status-${a.status}`, "data-alarm-id": a.id, "data-status": a.status },
    el("span", { class: "prio" }, `${PRIORITY_ICON[a.priority]} ${t(`prio.${a.priority}`)}`),
    el("span", { class: "what" }, `${bedLabel(a.bed_id)} · ${t(`alarm.${a.kind}`)}${a.value !== null && a.value !== undefined ? ` (${fmt(a.kind, a.value)})` : ""}`),
    el("span", { class: "meta" }, `${t(`status.${a.status}`)} · ${age(a.raised_at)}${a.escalation_level ? ` · ⬆${a.escalation_level}` : ""}`),
  );
  const actions = el("div", { class: "actions" });
  if (a.status === "active") {
    actions.append(el("button", { type: "button", class: "ack", onclick: () => act(a.id, "acknowledge", {}) }, t("nurse.ack")));
  }
  const form = el("form", { class: "resolve-form", hidden: true },
    el("label", {}, el("span", { class: "visually-hidden" }, t("nurse.resolve_note")),
      el("input", { type: "text", name: "note", required: true, maxlength: 2000, placeholder: t("nurse.resolve_note") })),
    el("button", { type: "submit", class: "resolve-confirm" }, t("nurse.resolve_confirm")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const note = form.note.value.trim();
    if (!note) { form.note.setCustomValidity(t("nurse.note_required")); form.reportValidity(); return; }
    li.classList.remove("editing");
    act(a.id, "resolve", { note });
  });
  actions.append(el("button", {
    type: "button", class: "resolve",
    onclick: () => { form.hidden = false; li.classList.add("editing"); form.note.focus(); },
  }, t("nurse.resolve")));
  li.append(actions, form);
  return li;
}

async function act(alarmId, what, body) {
  try {
    await session.call("POST", `/api/v1/alarms/${alarmId}/${what}`, body);
  } catch (e) {
    if (!(e instanceof ApiProblem) || e.status !== 409) alert(e.message);
  }
  await loadAlarms(false).catch(() => {});
}

// ---------------------------------------------------------------------------------------------
// Patient detail: history charts, alarm history with the action log, medication.

function openDetail(bedId) {
  state.detail = { bedId, range: 3600 };
  $("detail").showModal();
  loadDetail();
}

async function loadDetail() {
  const d = state.detail;
  const bed = d && state.beds.get(d.bedId);
  const adm = bed?.bed.admission;
  if (!adm) return;
  $("detail-title").textContent = bed.bed.label;
  for (const b of document.querySelectorAll("[data-range]")) b.setAttribute("aria-pressed", String(Number(b.dataset.range) === d.range));
  const to = new Date();
  const from = new Date(to.getTime() - d.range * 1000);
  const q = `from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}&points=120`;
  const charts = await Promise.all(CHART_KINDS.map((kind) =>
    session.call("GET", `/api/v1/admissions/${adm.id}/vitals?kind=${kind}&${q}`).catch(() => ({ points: [] }))));
  $("charts").replaceChildren(...charts.map((h, i) => chart(CHART_KINDS[i], h.points, from, to)));
  const [history, meds] = await Promise.all([
    session.call("GET", `/api/v1/admissions/${adm.id}/alarms`).catch(() => ({ items: [] })),
    session.call("GET", `/api/v1/admissions/${adm.id}/medications`).catch(() => ({ items: [] })),
  ]);
  $("alarm-history").replaceChildren(...history.items.map((a) => el("li", { class: `prio-${a.priority}` },
    el("strong", {}, `${PRIORITY_ICON[a.priority]} ${t(`alarm.${a.kind}`)} — ${t(`status.${a.status}`)}`),
    el("div", {}, `${new Date(a.raised_at).toLocaleString()}`),
    a.acknowledged_at ? el("div", {}, `✓ ${t("status.acknowledged")} ${new Date(a.acknowledged_at).toLocaleTimeString()}${a.acknowledge_note ? ` — ${a.acknowledge_note}` : ""}`) : null,
    a.resolved_at ? el("div", {}, `✔ ${t("status.resolved")} ${new Date(a.resolved_at).toLocaleTimeString()}${a.resolution_note ? ` — ${a.resolution_note}` : ""}`) : null)));
  $("medications").replaceChildren(...meds.items.map((m) => el("li", { class: `med-${m.status}` },
    `${m.status === "done" ? "✔" : "○"} ${m.name} ${m.dose} — ${t(`med.${m.status}`)}${m.delivered_at ? ` (${new Date(m.delivered_at).toLocaleTimeString()})` : ""}`)));
}

function chart(kind, points, from, to) {
  const w = 320, h = 120, pad = 28;
  const ns = "http://www.w3.org/2000/svg";
  const figure = el("figure", { class: "chart", "data-kind": kind }, el("figcaption", {}, t(`kind.${kind}`)));
  if (!points.length) { figure.append(el("p", { class: "muted" }, t("nurse.no_data"))); return figure; }
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", t(`kind.${kind}`));
  const lo = Math.min(...points.map((p) => p.min)), hi = Math.max(...points.map((p) => p.max));
  const span = hi - lo || 1;
  const x = (ms) => pad + ((ms - from.getTime()) / (to.getTime() - from.getTime())) * (w - pad - 4);
  const y = (v) => h - 14 - ((v - lo) / span) * (h - 24);
  const band = document.createElementNS(ns, "path");
  band.setAttribute("class", "range");
  band.setAttribute("d", points.map((p, i) => `${i ? "L" : "M"}${x(Date.parse(p.at)).toFixed(1)},${y(p.max).toFixed(1)}`).join(" ")
    + " " + [...points].reverse().map((p) => `L${x(Date.parse(p.at)).toFixed(1)},${y(p.min).toFixed(1)}`).join(" ") + " Z");
  const line = document.createElementNS(ns, "path");
  line.setAttribute("class", "mean");
  line.setAttribute("d", points.map((p, i) => `${i ? "L" : "M"}${x(Date.parse(p.at)).toFixed(1)},${y(p.mean).toFixed(1)}`).join(" "));
  const label = (text, ly) => {
    const n = document.createElementNS(ns, "text");
    n.setAttribute("x", "2"); n.setAttribute("y", String(ly)); n.textContent = text; return n;
  };
  svg.append(band, line, label(fmt(kind, hi), 12), label(fmt(kind, lo), h - 14));
  figure.append(svg);
  return figure;
}

start();
