// The lobby board: a department's called numbers and the next few, large, read-only, live
// from the public board stream (EventSource is fine here: no header to send; it reconnects
// and resumes with Last-Event-ID by itself). Every event re-reads the board, which is small.

import { el, t, texts, translatePage, currentLang } from "/web/common.js";

texts({
  "board.now": ["지금 진료 · 호출", "Now serving · called"],
  "board.next": ["다음 순서", "Next"],
  "board.waiting": ["대기", "Waiting"],
  "board.offline": ["연결 중…", "Reconnecting…"],
  "board.called": ["호출", "Called"],
  "board.in_consultation": ["진료 중", "In consultation"],
  "board.none": ["—", "—"],
  "board.pick": ["병원 id와 진료과 코드를 주소에 넣으세요: /board/{병원}/{진료과}", "Put the hospital id and department code in the address: /board/{hospital}/{department}"],
});

const parts = location.pathname.split("/").filter(Boolean);
const params = new URLSearchParams(location.search);
const hospital = parts[1] || params.get("hospital");
const department = parts[2] || params.get("department");
const $ = (id) => document.getElementById(id);

function render(board) {
  $("department").textContent = board.department;
  $("serving").replaceChildren(...(board.serving.length
    ? board.serving.map((s) => el("div", { class: "called", "data-number": s.label },
      el("div", { class: "number" }, s.label),
      el("div", { class: "state" }, s.status === "called" ? `▶ ${t("board.called")}` : `● ${t("board.in_consultation")}`)))
    : [el("div", { class: "number" }, t("board.none"))]));
  $("next").replaceChildren(...board.next.map((n) => el("span", {}, n)));
  $("waiting").textContent = String(board.waiting);
}

async function refresh() {
  const r = await fetch(`/api/v1/hospitals/${hospital}/reception/boards/${encodeURIComponent(department)}`, {
    headers: { "Accept-Language": currentLang() },
  });
  if (r.ok) render(await r.json());
}

function tick() {
  $("clock").textContent = new Date().toLocaleTimeString(currentLang() === "ko" ? "ko-KR" : "en-GB", { hour: "2-digit", minute: "2-digit" });
}

translatePage();
tick();
setInterval(tick, 10_000);
if (!hospital || !department) {
  $("serving").replaceChildren(el("p", {}, t("board.pick")));
} else {
  refresh();
  const source = new EventSource(`/api/v1/hospitals/${hospital}/reception/boards/${encodeURIComponent(department)}/events`);
  let pending = null;
  const soon = () => { clearTimeout(pending); pending = setTimeout(refresh, 100); };
  source.addEventListener("board", (e) => { $("offline").hidden = true; try { render(JSON.parse(e.data)); } catch { soon(); } });
  source.addEventListener("line", soon);
  source.addEventListener("open", () => { $("offline").hidden = true; soon(); });
  source.addEventListener("error", () => { $("offline").hidden = false; });
}
