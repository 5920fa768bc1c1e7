// Live events (ctx.events) from GET /v1/events (server-sent events). One EventSource per distinct filter,
// shared by every subscriber of that filter and closed with its last one. The browser reconnects by itself
// and resumes with Last-Event-ID (the journal seq), so no entry is missed across a reconnect.

const KEYS = ["account", "node", "lease", "kind"];

function query(filter = {}) {
  const params = new URLSearchParams();
  for (const key of KEYS) {
    const value = filter[key];
    if (value === undefined || value === null || value === "") continue;
    params.set(key, Array.isArray(value) ? value.join(",") : String(value));
  }
  return params.toString();
}

/** The events hub; `onStatus(cb)` reports "live", "connecting" or "offline" of the shell's stream. */
export function createEvents() {
  const streams = new Map();
  const statusListeners = new Set();
  let status = "connecting";
  const setStatus = (next) => {
    if (next === status) return;
    status = next;
    [...statusListeners].forEach((cb) => cb(status));
  };

  function open(key) {
    const source = new EventSource(key ? `/v1/events?${key}` : "/v1/events");
    const stream = { source, callbacks: new Set() };
    source.addEventListener("entry", (message) => {
      let entry;
      try { entry = JSON.parse(message.data); } catch { return; }
      for (const cb of [...stream.callbacks]) {
        try { cb(entry); } catch (error) { console.warn("event handler failed", error); }
      }
    });
    if (key === "") {
      source.addEventListener("open", () => setStatus("live"));
      source.addEventListener("error", () => setStatus(source.readyState === EventSource.CLOSED ? "offline" : "connecting"));
    }
    return stream;
  }

  return {
    /**
     * subscribe(filter, cb) → unsubscribe. filter: {account?, node?, lease?, kind?} (a kind may be an
     * array); cb(entry) with entry = {seq, ts, events: [Event JSON tagged by "event"]} for each new journal
     * entry with a matching event.
     */
    subscribe(filter, cb) {
      const key = query(filter);
      let stream = streams.get(key);
      if (!stream) { stream = open(key); streams.set(key, stream); }
      stream.callbacks.add(cb);
      return () => {
        stream.callbacks.delete(cb);
        if (stream.callbacks.size === 0 && streams.get(key) === stream) { stream.source.close(); streams.delete(key); }
      };
    },
    /** The shell's stream state: "live", "connecting" or "offline". */
    get status() { return status; },
    onStatus(cb) { statusListeners.add(cb); return () => statusListeners.delete(cb); },
  };
}
