// Shared by every DocDe page: translations (Korean / English), the signed-in session with
// refresh before expiry, JSON calls to /api/v1, and an SSE reader built on fetch() so it can
// send Authorization and Last-Event-ID itself (EventSource cannot send headers).

const LANG_KEY = "docde.lang";

export function currentLang() {
  const saved = localStorage.getItem(LANG_KEY);
  if (saved === "ko" || saved === "en") return saved;
  return (navigator.language || "en").toLowerCase().startsWith("ko") ? "ko" : "en";
}

let dictionary = { ko: {}, en: {} };

/// Registers a page's texts: { key: [korean, english] }.
export function texts(entries) {
  for (const [key, [ko, en]] of Object.entries(entries)) {
    dictionary.ko[key] = ko;
    dictionary.en[key] = en;
  }
}

export function t(key, vars = {}) {
  const text = dictionary[currentLang()][key] ?? dictionary.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

/// Fills every [data-i18n] element with its text and sets <html lang>.
export function translatePage() {
  document.documentElement.lang = currentLang();
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of document.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
}

/// A button that switches between 한국어 and English; `onChange` re-renders dynamic parts.
export function languageToggle(button, onChange) {
  const label = () => { button.textContent = currentLang() === "ko" ? "English" : "한국어"; };
  label();
  button.addEventListener("click", () => {
    localStorage.setItem(LANG_KEY, currentLang() === "ko" ? "en" : "ko");
    label();
    translatePage();
    onChange?.();
  });
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export class ApiProblem extends Error {
  constructor(status, body) {
    super(body?.title || `HTTP ${status}`);
    this.status = status;
    this.code = body?.code;
    this.body = body;
  }
}

/// The signed-in session of one page (kept in sessionStorage: a closed tab signs out).
export class Session {
  constructor(key) {
    this.key = `docde.session.${key}`;
    this.state = JSON.parse(sessionStorage.getItem(this.key) || "null");
    this.timer = null;
    this.onSignedOut = () => {};
    if (this.state) this.schedule();
  }

  get signedIn() { return !!this.state; }
  get token() { return this.state?.access_token; }

  save(pair) {
    this.state = {
      access_token: pair.access_token,
      refresh_token: pair.refresh_token,
      expires_at: Date.now() + pair.expires_in * 1000,
    };
    sessionStorage.setItem(this.key, JSON.stringify(this.state));
    this.schedule();
  }

  clear() {
    clearTimeout(this.timer);
    this.state = null;
    sessionStorage.removeItem(this.key);
  }

  async signIn(body) {
    const pair = await request("POST", "/api/v1/auth/sign-in", { body });
    this.save(pair);
  }

  async signOut() {
    try { await this.call("POST", "/api/v1/auth/logout"); } catch { /* gone anyway */ }
    this.clear();
    this.onSignedOut();
  }

  // Refresh a minute before the access token expires (they live 15 minutes).
  schedule() {
    clearTimeout(this.timer);
    const wait = Math.max(1000, this.state.expires_at - Date.now() - 60_000);
    this.timer = setTimeout(() => this.refresh().catch(() => {}), wait);
  }

  async refresh() {
    if (!this.state) throw new ApiProblem(401, null);
    if (!this.refreshing) {
      this.refreshing = request("POST", "/api/v1/auth/refresh", {
        body: { refresh_token: this.state.refresh_token },
      }).then((pair) => this.save(pair)).catch((e) => {
        // Only a refusal ends the session; a server that is down is retried later.
        if (e instanceof ApiProblem && e.status === 401) { this.clear(); this.onSignedOut(); }
        else if (this.state) this.timer = setTimeout(() => this.refresh().catch(() => {}), 5000);
        throw e;
      }).finally(() => { this.refreshing = null; });
    }
    return this.refreshing;
  }

  /// A JSON call with the access token; an expired token is refreshed once and retried.
  async call(method, path, body, headers) {
    // A request carrying an Idempotency-Key is safe to send again: when the answer is lost
    // (network error) or the instance was going away (502/503/504), retry it with the same
    // key a few times; the server answers a retry with the first request's result.
    const retries = headers && headers["Idempotency-Key"] ? 3 : 0;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(method, path, body, headers);
      } catch (e) {
        const transient = !(e instanceof ApiProblem) || [502, 503, 504].includes(e.status);
        if (!transient || attempt >= retries) throw e;
        await new Promise((resolve) => setTimeout(resolve, 300 * 2 ** attempt));
      }
    }
  }

  async once(method, path, body, headers) {
    try {
      return await request(method, path, { body, token: this.token, headers });
    } catch (e) {
      if (e instanceof ApiProblem && e.code === "token_expired") {
        await this.refresh();
        return request(method, path, { body, token: this.token, headers });
      }
      throw e;
    }
  }
}

export async function request(method, path, { body, token, headers: extra } = {}) {
  const headers = { Accept: "application/json", "Accept-Language": currentLang(), ...(extra || {}) };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiProblem(response.status, data);
  return { ...((data && typeof data === "object" && !Array.isArray(data)) ? data : { items: data }), _status: response.status, _location: response.headers.get("Location") };
}

/// Reads an SSE stream with fetch(), resuming after the last event id on every reconnect.
/// Callbacks: onEvent({event, id, data}), onOpen({resumed}), onDown().
export class Stream {
  constructor(url, { token, onEvent, onOpen, onDown, lastEventId }) {
    this.url = url;
    this.token = token;
    this.onEvent = onEvent;
    this.onOpen = onOpen || (() => {});
    this.onDown = onDown || (() => {});
    this.lastEventId = lastEventId ?? null;
    this.stopped = false;
    this.opened = 0;
    this.run();
  }

  stop() {
    this.stopped = true;
    this.controller?.abort();
  }

  async run() {
    let delay = 500;
    while (!this.stopped) {
      try {
        await this.once();
        delay = 500;
      } catch (e) {
        if (this.stopped) return;
      }
      if (this.stopped) return;
      this.onDown();
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 4000);
    }
  }

  async once() {
    this.controller = new AbortController();
    const headers = { Accept: "text/event-stream" };
    const token = typeof this.token === "function" ? await this.token() : this.token;
    if (token) headers.Authorization = `Bearer ${token}`;
    if (this.lastEventId !== null) headers["Last-Event-ID"] = String(this.lastEventId);
    // A stream that says nothing (not even the keep-alive comment) for 40 s is dead.
    let watchdog;
    const pet = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => this.controller.abort(), 40_000);
    };
    pet();
    try {
      const response = await fetch(this.url, { headers, signal: this.controller.signal, cache: "no-store" });
      if (!response.ok) throw new ApiProblem(response.status, null);
      this.opened += 1;
      this.onOpen({ resumed: this.opened > 1 });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      let event = { event: "message", data: [], id: null };
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        pet();
        buffer += value;
        let nl;
        while ((nl = buffer.search(/\r?\n/)) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + (buffer[nl] === "\r" ? 2 : 1));
          if (line === "") {
            if (event.data.length) {
              if (event.id !== null) this.lastEventId = event.id;
              this.onEvent({ event: event.event, id: event.id, data: event.data.join("\n") });
            }
            event = { event: "message", data: [], id: null };
            continue;
          }
          if (line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          let val = colon < 0 ? "" : line.slice(colon + 1);
          if (val.startsWith(" ")) val = val.slice(1);
          if (field === "event") event.event = val;
          else if (field === "data") event.data.push(val);
          else if (field === "id") event.id = val;
        }
      }
    } finally {
      clearTimeout(watchdog);
    }
  }
}

/// Minutes/seconds since `iso`, short.
export function age(iso, now = Date.now()) {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return t("age.s", { n: s });
  if (s < 3600) return t("age.m", { n: Math.floor(s / 60) });
  return t("age.h", { n: Math.floor(s / 3600) });
}

texts({
  "age.s": ["{n}초 전", "{n} s ago"],
  "age.m": ["{n}분 전", "{n} min ago"],
  "age.h": ["{n}시간 전", "{n} h ago"],
  "signin.email": ["이메일", "E-mail"],
  "signin.password": ["비밀번호", "Password"],
  "signin.submit": ["로그인", "Sign in"],
  "signin.failed": ["로그인하지 못했습니다", "Could not sign in"],
  "signout": ["로그아웃", "Sign out"],
});
