// Phone and desktop pages for a nurse: subscribes this browser to web push (high-priority
// alarms of the nurse's wards reach it with the station tab closed or the screen locked) and
// keeps the server's copy of the subscription current. The button is shown only to nurses in
// a browser that can do it.

import { t, texts } from "/web/common.js";

texts({
  "push.off": ["🔔 이 기기로 알림 받기", "🔔 Alerts on this device"],
  "push.on": ["🔔 알림 켜짐", "🔔 Alerts on"],
  "push.denied": ["알림이 차단되어 있습니다 (브라우저 설정)", "Notifications are blocked (browser settings)"],
});

const KEY = "docde.push.key";
const ID = "docde.push.id";

function bytes(base64url) {
  const b64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

export async function setUpPush(session, button, onError) {
  button.hidden = true;
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) return;
  // Only nurses may subscribe: anyone else gets 403 here, and no button.
  try { await session.call("GET", "/api/v1/push/subscriptions"); } catch { return; }
  const registration = await navigator.serviceWorker.register("/web/sw.js", { scope: "/web/" });
  const { public_key: key } = await session.call("GET", "/api/v1/push/vapid-public-key");

  const save = async (subscription) => {
    const saved = await session.call("POST", "/api/v1/push/subscriptions", subscription.toJSON());
    localStorage.setItem(ID, saved.id);
    localStorage.setItem(KEY, key);
  };
  const render = async () => {
    const on = Boolean(await registration.pushManager.getSubscription());
    button.textContent = t(on ? "push.on" : "push.off");
    button.setAttribute("aria-pressed", String(on));
  };

  // Already subscribed: tell the server again (it may have dropped it, or another nurse may
  // have used this browser); a subscription made for an older server key is renewed.
  const existing = await registration.pushManager.getSubscription();
  if (existing && localStorage.getItem(KEY) !== key) {
    await existing.unsubscribe();
    if (Notification.permission === "granted") {
      await save(await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: bytes(key) }));
    }
  } else if (existing) {
    await save(existing).catch(() => {});
  }

  button.onclick = async () => {
    try {
      const current = await registration.pushManager.getSubscription();
      if (current) {
        const id = localStorage.getItem(ID);
        if (id) await session.call("DELETE", `/api/v1/push/subscriptions/${id}`).catch(() => {});
        await current.unsubscribe();
        localStorage.removeItem(ID);
      } else {
        if (await Notification.requestPermission() !== "granted") throw new Error(t("push.denied"));
        await save(await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: bytes(key) }));
      }
    } catch (err) {
      onError?.(err);
    }
    await render();
  };
  await render();
  button.hidden = false;
}
