// The nurse station's service worker: it only shows web push pages (high-priority alarms of
// the nurse's wards, and their escalations) and opens the ward when one is tapped. It caches
// nothing: the station must always show the live ward, never a stored copy.
//
// A page is JSON: {title, body, tag, url, priority, …} (crates/server/src/ward/push.rs). The
// tag is per alarm, so an escalation replaces the first page instead of stacking up.

self.addEventListener("push", (event) => {
  let page = {};
  try { page = event.data ? event.data.json() : {}; } catch { /* not ours: show a plain page */ }
  event.waitUntil(self.registration.showNotification(page.title || "DocDe", {
    body: page.body || "",
    tag: page.tag,
    renotify: true,
    // A high-priority page stays until someone looks at it.
    requireInteraction: page.priority === "high",
    data: { url: page.url || "/nurse" },
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL(event.notification.data?.url || "/nurse", self.location.origin);
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const station = windows.find((w) => new URL(w.url).pathname === "/nurse");
    if (station) {
      await station.focus();
      if (station.url !== url.href && "navigate" in station) await station.navigate(url.href).catch(() => {});
      return;
    }
    await self.clients.openWindow(url.href);
  })());
});
