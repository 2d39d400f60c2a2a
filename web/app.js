// The patient app: sign in / sign up, search hospitals and doctors, a doctor's free slots,
// booking and cancelling, checking in at reception, and the waiting room with the live place
// in line (a check-in answered 202 waits as a ticket first, then as a visit in the line).

import { Session, Stream, ApiProblem, el, languageToggle, t, texts, translatePage } from "/web/common.js";

texts({
  "app.account": ["로그인 · 회원가입", "Sign in · sign up"],
  "app.signup": ["회원가입", "Sign up"],
  "app.code_sent": ["이메일로 받은 6자리 코드를 입력하세요", "Enter the 6-digit code we e-mailed you"],
  "app.name": ["이름", "Name"],
  "app.code": ["코드", "Code"],
  "app.verify": ["확인", "Verify"],
  "app.signed_in": ["로그인됨", "Signed in"],
  "app.search": ["병원 · 의사 검색", "Search hospitals · doctors"],
  "app.search_hint": ["예: 서울대, 내과", "e.g. 서울대, internal medicine"],
  "app.search_go": ["검색", "Search"],
  "app.hospitals": ["병원", "Hospitals"],
  "app.doctors": ["의사", "Doctors"],
  "app.slots": ["{name} — 예약 가능 시간", "{name} — free slots"],
  "app.no_slots": ["예약 가능한 시간이 없습니다", "No free slots"],
  "app.book": ["예약", "Book"],
  "app.booked": ["예약되었습니다", "Booked"],
  "app.queued": ["접수 대기 중입니다", "Queued"],
  "app.cancel": ["취소", "Cancel"],
  "app.check_in": ["접수: {dept}", "Check in: {dept}"],
  "app.appointments": ["내 예약", "My appointments"],
  "app.none": ["없음", "None"],
  "app.waiting_room": ["접수 · 대기실", "Reception · waiting room"],
  "app.ticket_position": ["대기실 순서", "Place in the waiting room"],
  "app.line_position": ["내 순서 (번호 {label})", "Your place in line (number {label})"],
  "app.called": ["호출되었습니다! 번호 {label}", "You are called! Number {label}"],
  "app.in_consultation": ["진료 중", "In consultation"],
  "app.done": ["진료가 끝났습니다", "Visit finished"],
  "app.refused": ["접수되지 않았습니다: {code}", "Not checked in: {code}"],
  "app.sign_in_first": ["먼저 로그인하세요", "Sign in first"],
  "status.requested": ["요청됨", "Requested"],
  "status.booked": ["예약됨", "Booked"],
  "status.cancelled": ["취소됨", "Cancelled"],
  "status.checked_in": ["접수됨", "Checked in"],
  "status.completed": ["완료", "Completed"],
  "status.denied": ["거절됨", "Denied"],
  "status.no_show": ["노쇼", "No-show"],
});

const session = new Session("patient");
const $ = (id) => document.getElementById(id);
let departments = new Map();
let watching = null;

function message(text) { $("account-msg").textContent = text; }

function signedInView() {
  const on = session.signedIn;
  $("signin").hidden = on;
  $("verify").hidden = true;
  $("signout").hidden = !on;
  $("mine").hidden = !on;
  if (on) { message(""); $("account").querySelector("h2").textContent = t("app.signed_in"); loadAppointments(); }
}

function when(iso) {
  return new Date(iso).toLocaleString(document.documentElement.lang === "ko" ? "ko-KR" : "en-GB",
    { month: "short", day: "numeric", weekday: "short", hour: "2-digit", minute: "2-digit" });
}

function deptName(code) {
  const d = departments.get(code);
  return d ? (document.documentElement.lang === "ko" ? d.ko : d.en) : code;
}

async function search(q) {
  const enc = encodeURIComponent(q);
  const [h, d] = await Promise.all([
    session.call("GET", `/api/v1/search/hospitals?q=${enc}&limit=10`),
    session.call("GET", `/api/v1/search/doctors?q=${enc}&limit=10`),
  ]);
  $("hospitals").replaceChildren(...(h.items.length ? h.items : []).map((x) =>
    el("li", { "data-hospital-id": x.id },
      el("span", {}, el("strong", {}, x.name), " ", el("small", { class: "muted" }, [x.sido, x.sigungu].filter(Boolean).join(" "))),
      el("button", { type: "button", class: "show-hospital", onclick: () => showHospital(x) }, "›"))));
  $("doctors").replaceChildren(...d.items.map((x) =>
    el("li", { "data-doctor-id": x.id },
      el("span", {}, el("strong", {}, x.name), " · ", x.hospital_name),
      x.accepts_online_booking ? el("button", { type: "button", class: "show-slots", onclick: () => showSlots(x) }, t("app.book")) : null)));
}

async function showHospital(h) {
  const li = document.querySelector(`[data-hospital-id="${h.id}"]`);
  const info = await session.call("GET", `/api/v1/hospitals/${h.id}`);
  const box = el("div", { class: "row" }, ...(info.departments || []).map((code) => {
    const c = typeof code === "string" ? code : code.code;
    return el("button", { type: "button", class: "check-in", "data-department": c, onclick: () => checkIn(h.id, c) }, t("app.check_in", { dept: deptName(c) }));
  }));
  li.after(el("li", {}, box));
}

async function showSlots(doctor) {
  const a = await session.call("GET", `/api/v1/doctors/${doctor.id}/availability`);
  $("slots-box").hidden = false;
  $("slots-title").textContent = t("app.slots", { name: doctor.name });
  const free = a.slots.filter((s) => s.free > 0).slice(0, 40);
  $("slots").replaceChildren(...(free.length ? free.map((s) => el("button", {
    type: "button", class: "slot", "data-starts-at": s.starts_at, onclick: () => book(doctor.id, s.starts_at),
  }, when(s.starts_at))) : [el("p", { class: "muted" }, t("app.no_slots"))]));
}

async function book(doctorId, startsAt) {
  if (!session.signedIn) { message(t("app.sign_in_first")); return; }
  try {
    const r = await session.call("POST", "/api/v1/appointments", { doctor_id: doctorId, starts_at: startsAt, reason: "web" },
      { "Idempotency-Key": crypto.randomUUID() });
    message(r._status === 202 ? t("app.queued") : t("app.booked"));
  } catch (e) { message(e.message); }
  await loadAppointments();
}

async function loadAppointments() {
  if (!session.signedIn) return;
  const r = await session.call("GET", "/api/v1/me/appointments");
  const items = (r.items || []).filter((a) => a.status !== "cancelled");
  $("appointments").replaceChildren(...(items.length ? items.map((a) => el("li", { "data-appointment-id": a.id, "data-status": a.status },
    el("span", {}, when(a.starts_at), " · ", t(`status.${a.status}`)),
    ["booked", "requested"].includes(a.status)
      ? el("button", { type: "button", class: "cancel", onclick: async () => {
        try { await session.call("POST", `/api/v1/appointments/${a.id}/cancel`, {}); } catch (e) { message(e.message); }
        loadAppointments();
      } }, t("app.cancel")) : null)) : [el("li", { class: "muted" }, t("app.none"))]));
}

async function checkIn(hospitalId, department) {
  if (!session.signedIn) { message(t("app.sign_in_first")); return; }
  try {
    const r = await session.call("POST", `/api/v1/hospitals/${hospitalId}/reception/check-ins`, { department },
      { "Idempotency-Key": crypto.randomUUID() });
    $("reception").hidden = false;
    if (r._status === 202) watchTicket(r.id); else watchVisit(r.id);
  } catch (e) { message(e.message); }
}

function watch(url, onEvent) {
  watching?.stop();
  watching = new Stream(url, { token: () => session.token, onEvent });
}

function watchTicket(id) {
  $("wait-label").textContent = t("app.ticket_position");
  $("wait-result").textContent = "";
  watch(`/api/v1/reception/tickets/${id}/events`, ({ event, data }) => {
    const v = JSON.parse(data);
    if (event === "position" && v.position) $("position").textContent = String(v.position);
    if (event === "result" || v.status === "done") {
      watching.stop();
      const o = v.outcome || {};
      if (o.status === 201 && o.visit_id) watchVisit(o.visit_id);
      else { $("position").textContent = "✕"; $("wait-result").textContent = t("app.refused", { code: o.code || "?" }); }
    }
  });
}

function watchVisit(id) {
  watch(`/api/v1/reception/visits/${id}/events`, ({ data }) => {
    const v = JSON.parse(data);
    $("wait-label").textContent = t("app.line_position", { label: v.label });
    if (v.status === "waiting") { $("position").textContent = String(v.position ?? "…"); $("wait-result").textContent = ""; }
    else if (v.status === "called") { $("position").textContent = v.label; $("wait-result").textContent = `▶ ${t("app.called", { label: v.label })}`; }
    else if (v.status === "in_consultation") $("wait-result").textContent = `● ${t("app.in_consultation")}`;
    else { $("wait-result").textContent = t("app.done"); watching.stop(); }
  });
}

async function start() {
  translatePage();
  languageToggle($("lang"), () => { signedInView(); });
  session.onSignedOut = () => location.reload();
  $("signout").addEventListener("click", () => session.signOut());
  try {
    const d = await fetch("/api/v1/departments").then((r) => r.json());
    for (const x of (Array.isArray(d) ? d : d.items || [])) departments.set(x.code, { ko: x.name_ko || x.ko || x.name, en: x.name_en || x.en || x.code });
  } catch { /* codes shown */ }
  $("signin").addEventListener("submit", async (e) => {
    e.preventDefault();
    try { await session.signIn({ email: $("email").value.trim(), password: $("password").value }); signedInView(); }
    catch (err) { message(`${t("signin.failed")}: ${err.message}`); }
  });
  $("signup").addEventListener("click", async () => {
    try {
      await session.call("POST", "/api/v1/auth/sign-up", { email: $("email").value.trim(), password: $("password").value, name: $("email").value.split("@")[0] });
      $("verify").hidden = false;
      message("");
    } catch (err) { message(err instanceof ApiProblem ? `${err.message} ${err.body?.errors?.map((f) => f.message).join(", ") || ""}` : err.message); }
  });
  $("verify").addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await session.call("POST", "/api/v1/auth/verify-email", { email: $("email").value.trim(), code: $("code").value.trim() });
      await session.signIn({ email: $("email").value.trim(), password: $("password").value });
      signedInView();
    } catch (err) { message(err.message); }
  });
  $("search").addEventListener("submit", (e) => { e.preventDefault(); search($("q").value.trim()).catch((err) => message(err.message)); });
  signedInView();
}

start();
