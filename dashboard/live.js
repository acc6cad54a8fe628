// Presence Agent: what the supervisor dashboard (app.js) and the agent's own page
// (agent/agent.js) share. Plain script, no build step, no dependencies; served at
// /dashboard/live.js to both pages and loaded before their own script. Exposes one global,
// window.PresenceLive:
//
//   serverNow()                 now on the server's clock (ms), once syncClock has answered
//   syncClock()                 measures the server clock against this browser's (GET /health)
//   parseTime(text)             an ISO time to ms, or null
//   duration(seconds)           75 -> "1:15", 3725 -> "1:02:05"
//   api(method, path, body, token)  fetch with the session cookie (or a bearer token), JSON
//   errorMessage(result, fallback)  the server's error message of an api() result, in words
//   createStream(handlers)      the live stream (SSE /api/v1/stream) with resume and retry
'use strict';

window.PresenceLive = (() => {
  let clockOffset = 0; // server clock minus this browser's clock, in ms

  const serverNow = () => Date.now() + clockOffset;

  function parseTime(text) {
    if (!text) return null;
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? null : ms;
  }

  // 75 -> "1:15", 3725 -> "1:02:05"
  function duration(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const rest = String(s % 60).padStart(2, '0');
    return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
  }

  // fetch with the session cookie (and the token as a bearer, when given); JSON in and out.
  // Returns {ok, status, body}; a network failure gives status 0.
  async function api(method, path, body, token) {
    const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (token) init.headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch {
      return { ok: false, status: 0, body: null };
    }
    let parsed = null;
    if (response.status !== 204) {
      try {
        parsed = await response.json();
      } catch {
        parsed = null;
      }
    }
    return { ok: response.ok, status: response.status, body: parsed };
  }

  const errorMessage = (result, fallback) =>
    (result.body && result.body.error && result.body.error.message) ||
    (result.status === 0 ? 'the server cannot be reached' : fallback);

  async function syncClock() {
    const sent = Date.now();
    const result = await api('GET', '/api/v1/health');
    const received = Date.now();
    const serverTime = result.ok && result.body ? parseTime(result.body.time) : null;
    if (serverTime !== null && received - sent < 2000) {
      clockOffset = serverTime - (sent + received) / 2;
    }
  }

  // The live stream: SSE /api/v1/stream, a "snapshot" then "agent" updates, ids
  // "<epoch>-<seq>". Resumes with ?since=<last id> when opened again; when the browser gives
  // up (an answer other than a stream), asks GET /api/v1/session whether the session ended
  // (401: handlers.sessionEnded) or retries, waiting 1 s, 2 s, 4 s ... up to 15 s.
  //
  // handlers: open() when connected; reconnecting() when the connection is lost;
  // snapshot(message) and agent(message) with each readable message; epochChanged(message)
  // when the server's numbering changed under the open page (optional); sessionEnded().
  function createStream(handlers) {
    let source = null; // the EventSource
    let lastEventId = ''; // "<epoch>-<seq>" of the last message, for a manual resume
    let epoch = null; // epoch of the stream's last message
    let retryTimer = 0;
    let retryDelay = 1000;
    let run = 0; // bumped by start and stop so that a late retry of an old run is dropped

    function open() {
      close();
      clearTimeout(retryTimer);
      const url = lastEventId ? `/api/v1/stream?since=${encodeURIComponent(lastEventId)}` : '/api/v1/stream';
      const current = new EventSource(url);
      source = current;
      const mine = (handler) => (event) => {
        if (source === current) handler(event);
      };
      current.addEventListener('open', mine(() => {
        retryDelay = 1000;
        handlers.open();
      }));
      current.addEventListener('snapshot', mine((event) => {
        const message = read(event);
        if (message) handlers.snapshot(message);
      }));
      current.addEventListener('agent', mine((event) => {
        const message = read(event);
        if (message && message.agent) handlers.agent(message);
      }));
      current.addEventListener('error', mine(onError));
    }

    function close() {
      if (source) {
        source.close();
        source = null;
      }
    }

    // Every message: parsed, and its id and epoch remembered; null if unreadable.
    function read(event) {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return null;
      }
      if (event.lastEventId) lastEventId = event.lastEventId;
      const restarted = epoch !== null && epoch !== message.epoch;
      epoch = message.epoch;
      if (restarted && handlers.epochChanged) handlers.epochChanged(message);
      return message;
    }

    function onError() {
      const current = source;
      handlers.reconnecting();
      if (current && current.readyState === EventSource.CONNECTING) return; // the browser retries
      // The browser gave up (the server answered something other than a stream, e.g. 401 when
      // the session ended, or 503). Find out which, then retry or ask to sign in again.
      close();
      const mineRun = run;
      retryTimer = setTimeout(async () => {
        const session = await api('GET', '/api/v1/session');
        if (mineRun !== run) return;
        if (session.status === 401) {
          handlers.sessionEnded();
          return;
        }
        open();
      }, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 15000);
    }

    // A new session: from the start of the stream.
    function start() {
      stop();
      retryDelay = 1000;
      open();
    }

    // The session is over: no stream, no retry, nothing remembered.
    function stop() {
      run++;
      clearTimeout(retryTimer);
      close();
      lastEventId = '';
      epoch = null;
    }

    return {
      start,
      stop,
      get epoch() { return epoch; },
    };
  }

  return { serverNow, syncClock, parseTime, duration, api, errorMessage, createStream };
})();
