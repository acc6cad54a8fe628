// Presence Agent: the agent's own page (/agent/), the picklist of a softphone side panel.
// Plain script, no build step, no dependencies; the same API as the supervisor dashboard.
//
// Data flow: GET /api/v1/session decides between the sign-in form and the page. Signing in
// checks the token's role first (GET /api/v1/session with the token: an agent token only),
// then exchanges it for an HttpOnly session cookie (POST /api/v1/session). The page opens the
// live stream (SSE /api/v1/stream: for an agent, a "snapshot" of its own user, then its
// "agent" updates, ids "<epoch>-<seq>"), reads the catalog (GET /api/v1/states) once and the
// day's seconds per state (GET /api/v1/agents/{id} "today") at start and after every update.
// A change is PUT /api/v1/agents/{id}/state. A one-second tick counts the clocks locally.
'use strict';

(() => {
  // ---- constants ----------------------------------------------------------------------------

  // The last change's source in words (agent_view.h "source").
  const SOURCE_WORDS = {
    agent: 'by you',
    supervisor: 'set by your supervisor',
    call: 'after your call',
    wrap_up: 'after your call',
    pbx: 'by the phone system',
    crm: 'by the CRM',
    system: 'automatically',
  };
  const STATUS_COLORS = {
    1: '#2e7d32', 2: '#9e9e9e', 3: '#f9a825', 4: '#c62828', 5: '#ef6c00', 6: '#1565c0', 7: '#616161',
  };

  // ---- state --------------------------------------------------------------------------------

  let me = null; // {role, user, name} of the session
  let view = null; // the user's view (agent_view.h), null before the first
  let viewEpoch = null; // where `view` came from: the stream's numbering
  let viewSeq = -1;
  let catalog = new Map(); // label -> state from GET /api/v1/states
  let choices = []; // the selectable states, in catalog order
  let today = new Map(); // label -> seconds, as of todayAt
  let todayEnds = null; // when the day of `today` ends (GET /agents/{id}: today_ends)
  let todayAt = 0; // server time (ms) of the "today" answer
  let todayBusy = false;
  let todayAgain = false;
  let tickTimer = 0;
  let generation = 0; // bumped at sign-out so late answers of the old session are ignored
  let lastStateKey = ''; // label + since of the state last announced
  const written = {}; // element id -> text last written

  // ---- small helpers ------------------------------------------------------------------------

  const { serverNow, syncClock, parseTime, duration, api, errorMessage } = window.PresenceLive;
  const $ = (id) => document.getElementById(id);

  // A budget as people say it: 1800 -> "30 min", 5400 -> "1:30:00", 7200 -> "2 h".
  function amount(seconds) {
    if (seconds > 0 && seconds % 3600 === 0) return `${seconds / 3600} h`;
    if (seconds > 0 && seconds % 60 === 0) return `${seconds / 60} min`;
    if (seconds < 60) return `${seconds} s`;
    return duration(seconds);
  }

  function clockText(ms) {
    return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  // Writes text only when it changed (the tick rewrites little).
  function put(id, text) {
    if (written[id] === text) return;
    written[id] = text;
    $(id).textContent = text;
  }

  function show(id, visible) {
    $(id).hidden = !visible;
  }

  // "Ready for Calls (Online)": the picklist's text (seed 004).
  function displayOf(label, statusName) {
    const known = catalog.get(label);
    if (known && known.display) return known.display;
    return statusName ? `${label} (${statusName})` : label;
  }

  function colorOf(label, status) {
    const known = catalog.get(label);
    return (known && known.color) || STATUS_COLORS[status] || '#777';
  }

  function announce(text) {
    const region = $('announce');
    // The same words twice in a row are still a new change: empty the region first.
    if (region.textContent === text) region.textContent = '';
    setTimeout(() => { region.textContent = text; }, 50);
  }

  // ---- the view -----------------------------------------------------------------------------

  // Applies a view of the user if it is not older than the one shown. `epoch`/`seq` are the
  // stream's numbering; null for answers outside the stream (GET, PUT), which apply as they come.
  function apply(next, epoch, seq) {
    if (!next || !me || next.id !== me.user) return; // never another user's
    if (epoch !== null && viewEpoch === epoch && seq < viewSeq) return;
    // An answer from outside the stream (a PUT's) carries no number: it may arrive after the
    // stream has shown something newer, and must not take the page back.
    if (epoch === null && view && parseTime(next.since) < parseTime(view.since)) return;
    view = next;
    if (epoch !== null) {
      viewEpoch = epoch;
      viewSeq = seq;
    }
    render();
    loadToday();
  }

  function render() {
    const state = view && view.state;
    put('me-name', (view && view.name) || me.name || me.user);
    const text = state ? displayOf(state.label, state.status_name) : 'No state yet';
    put('state-text', text);
    const swatch = $('state-swatch');
    swatch.style.background = state ? colorOf(state.label, state.status) : 'transparent';
    swatch.classList.toggle('none', !state);
    const since = view ? parseTime(view.since) : null;
    const words = view && view.source ? sourceWords(view) : '';
    put('state-source', since !== null ? `Since ${clockText(since)}${words ? `, ${words}` : ''}` : '');

    const pending = view && view.pending;
    if (pending) {
      const when = view.wrap_up_until ? 'after your wrap-up' : (view.active_calls || []).length ? 'after your call' : 'next';
      const who = (SOURCE_WORDS[pending.source] || `by ${pending.source}`).replace(/^set /, '');
      put('pending', `Next, ${when}: ${displayOf(pending.label)}, chosen ${who}`);
    }
    show('pending', Boolean(pending));
    renderPickHint();
    markCurrentChoice();

    const key = state ? `${state.label}|${view.since}` : '';
    if (key && key !== lastStateKey) {
      if (lastStateKey) announce(`Your state is ${text}, ${words}.`);
      lastStateKey = key;
    }
    tick();
  }

  function sourceWords(current) {
    // A call that puts the user in a state is still going: "by your call", not "after".
    if (current.source === 'call' && (current.active_calls || []).length) return 'by your call';
    return SOURCE_WORDS[current.source] || current.source;
  }

  function renderPickHint() {
    let hint = '';
    if (view && view.wrap_up_until) {
      hint = 'In wrap-up: a state you choose ends it, or follows it where wrap-up must finish.';
    } else if (view && (view.active_calls || []).some((c) => c.answered)) {
      hint = 'On a call: the state you choose follows the call.';
    }
    put('pick-hint', hint);
    show('pick-hint', Boolean(hint));
  }

  // The clock-dependent text: time in state, the call's timer, wrap-up, today, budgets.
  function tick() {
    if (!view) return;
    const now = serverNow();
    const since = parseTime(view.since);
    put('state-time', since !== null ? duration((now - since) / 1000) : '');

    const calls = view.active_calls || [];
    let callText = '';
    if (calls.length) {
      const call = calls.find((c) => c.answered) || calls[0];
      const way = call.direction === 'outbound' ? 'Outbound call' : 'Inbound call';
      const kind = call.internal ? ' (internal)' : '';
      const answered = parseTime(call.answered);
      const timer = answered !== null
        ? duration((now - answered) / 1000)
        : `ringing ${duration((now - (parseTime(call.started) || now)) / 1000)}`;
      callText = `${calls.length > 1 ? `${calls.length} calls · ` : ''}${way}${kind} · ${timer}`;
    }
    put('call', callText);
    show('call', Boolean(callText));

    const wrapUntil = parseTime(view.wrap_up_until);
    let wrapLeft = wrapUntil !== null ? Math.ceil(Math.max(0, wrapUntil - now) / 1000) : 0;
    // This browser's estimate of the server's clock may lag by some milliseconds: never more
    // left than the wrap-up lasts (it began when the state did).
    const wrapStart = parseTime(view.since);
    if (wrapUntil !== null && wrapStart !== null && wrapUntil > wrapStart) {
      wrapLeft = Math.min(wrapLeft, Math.round((wrapUntil - wrapStart) / 1000));
    }
    const wrapText = wrapUntil !== null ? `Wrap-up: ${duration(wrapLeft)} left` : '';
    put('wrap', wrapText);
    show('wrap', Boolean(wrapText));

    // A new day (settings.time_zone's): today's figures start again. Asked again every second
    // until the server's answer is of the new day (this clock may run a little ahead of it).
    if (todayEnds !== null && now >= todayEnds && !todayBusy) loadToday();
    renderToday(now);
    renderBudgets(now);
  }

  function scheduleTick() {
    clearTimeout(tickTimer);
    const now = serverNow();
    let delay = 1000 - (now % 1000) + 5; // the next whole second of the clock
    // During a wrap-up also its countdown's next whole second, which the clock's seconds do
    // not line up with: otherwise it would show a second too much for up to a second.
    const wrapUntil = view ? parseTime(view.wrap_up_until) : null;
    if (wrapUntil !== null && wrapUntil > now) delay = Math.min(delay, ((wrapUntil - now) % 1000) + 5);
    tickTimer = setTimeout(() => {
      tick();
      scheduleTick();
    }, delay);
  }

  // ---- today and budgets --------------------------------------------------------------------

  // GET /api/v1/agents/{id}: the day's seconds per state. Refetched after every update; one
  // request at a time, one more if updates came meanwhile.
  async function loadToday() {
    if (!me) return;
    if (todayBusy) {
      todayAgain = true;
      return;
    }
    todayBusy = true;
    const run = generation;
    const result = await api('GET', `/api/v1/agents/${encodeURIComponent(me.user)}`);
    todayBusy = false;
    if (run !== generation) return;
    if (result.ok && result.body) {
      // One row per label and status: a label whose status a reload changed has two.
      today = new Map();
      for (const t of result.body.today || []) today.set(t.label, (today.get(t.label) || 0) + t.seconds);
      todayAt = serverNow();
      todayEnds = parseTime(result.body.today_ends);
      if (!view) {
        // Never seen on the stream (no state yet): the user's name and empty state.
        view = result.body;
        render();
      } else {
        tick();
      }
    }
    if (todayAgain) {
      todayAgain = false;
      loadToday();
    }
  }

  function renderToday(now) {
    const state = view && view.state;
    const seconds = new Map(today);
    if (state) {
      // The open interval keeps counting here between answers.
      const since = parseTime(view.since) || now;
      const extra = Math.max(0, now - Math.max(todayAt, since)) / 1000;
      seconds.set(state.label, (seconds.get(state.label) || 0) + extra);
    }
    const order = [...catalog.keys()];
    const labels = [...seconds.keys()].sort((a, b) => {
      const ia = order.indexOf(a);
      const ib = order.indexOf(b);
      return (ia < 0 ? 1e6 : ia) - (ib < 0 ? 1e6 : ib) || a.localeCompare(b);
    });
    const list = $('today-list');
    const key = labels.map((label) => displayOf(label)).join('\n'); // names change once the catalog is read
    if (list.dataset.key !== key) {
      list.dataset.key = key;
      list.textContent = '';
      for (const label of labels) {
        const item = document.createElement('li');
        item.dataset.label = label;
        const name = document.createElement('span');
        name.className = 'name';
        name.textContent = displayOf(label);
        const time = document.createElement('span');
        time.className = 'time';
        item.append(name, time);
        list.appendChild(item);
      }
    }
    for (const item of list.children) {
      const label = item.dataset.label;
      const text = duration(seconds.get(label));
      const time = item.lastChild;
      if (time.textContent !== text) time.textContent = text;
      item.classList.toggle('now', Boolean(state && state.label === label));
    }
    show('today-empty', labels.length === 0);
  }

  // agent_view.h "budgets": per budgeted state, used_seconds before counting_since; while in
  // the state the use grows from counting_since; at day_ends a new day starts.
  function budgetLeft(entry, dayEnds, now) {
    const counting = parseTime(entry.counting_since);
    let used;
    if (dayEnds !== null && now >= dayEnds) {
      used = counting !== null ? (now - dayEnds) / 1000 : 0;
    } else {
      used = entry.used_seconds + (counting !== null ? Math.max(0, now - counting) / 1000 : 0);
    }
    return entry.budget_seconds - used;
  }

  function renderBudgets(now) {
    const budgets = view && view.budgets;
    const entries = (budgets && budgets.states) || [];
    show('budgets', entries.length > 0);
    const list = $('budget-list');
    const key = entries.map((e) => e.label).join('\n');
    if (list.dataset.key !== key) {
      list.dataset.key = key;
      list.textContent = '';
      for (const entry of entries) {
        const item = document.createElement('li');
        item.className = 'budget';
        item.dataset.label = entry.label;
        const line = document.createElement('span');
        line.className = 'budget-text';
        const bar = document.createElement('span');
        bar.className = 'bar';
        bar.setAttribute('aria-hidden', 'true');
        const fill = document.createElement('span');
        fill.className = 'fill';
        bar.appendChild(fill);
        item.append(line, bar);
        list.appendChild(item);
      }
    }
    const dayEnds = budgets ? parseTime(budgets.day_ends) : null;
    entries.forEach((entry, i) => {
      const item = list.children[i];
      const left = budgetLeft(entry, dayEnds, now);
      const over = left < 0;
      const name = displayOf(entry.label);
      const text = over
        ? `${name}: over by ${duration(-left)} (${amount(entry.budget_seconds)} a day)`
        : `${name}: ${duration(left)} left of ${amount(entry.budget_seconds)}`;
      const line = item.firstChild;
      if (line.textContent !== text) line.textContent = text;
      item.classList.toggle('over', over);
      item.classList.toggle('running', entry.counting_since !== null && entry.counting_since !== undefined);
      const used = Math.min(1, Math.max(0, 1 - left / Math.max(1, entry.budget_seconds)));
      item.lastChild.firstChild.style.width = `${(used * 100).toFixed(1)}%`;
    });
  }

  // ---- the picklist -------------------------------------------------------------------------

  async function loadStates() {
    const result = await api('GET', '/api/v1/states');
    if (!result.ok || !Array.isArray(result.body)) return;
    catalog = new Map(result.body.map((s) => [s.label, s]));
    choices = result.body.filter((s) => s.selectable);
    const list = $('picklist');
    list.textContent = '';
    choices.forEach((state, i) => {
      const option = document.createElement('li');
      option.id = `choice-${i}`;
      option.className = 'choice';
      option.setAttribute('role', 'option');
      option.tabIndex = -1;
      option.dataset.label = state.label;
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.setAttribute('aria-hidden', 'true');
      swatch.style.background = colorOf(state.label, state.status);
      const text = document.createElement('span');
      text.textContent = state.display || `${state.label} (${state.status_name})`;
      option.append(swatch, text);
      list.appendChild(option);
    });
    markCurrentChoice();
    if (view) render();
  }

  function markCurrentChoice() {
    const current = view && view.state ? view.state.label : null;
    for (const option of $('picklist').children) {
      const selected = option.dataset.label === current;
      option.setAttribute('aria-selected', selected ? 'true' : 'false');
    }
  }

  const options = () => [...$('picklist').children];

  function openPicklist() {
    const list = $('picklist');
    if (!list.children.length) return;
    list.hidden = false;
    $('pick-button').setAttribute('aria-expanded', 'true');
    const selected = options().find((o) => o.getAttribute('aria-selected') === 'true');
    (selected || list.firstElementChild).focus();
  }

  function closePicklist(refocus) {
    $('picklist').hidden = true;
    $('pick-button').setAttribute('aria-expanded', 'false');
    if (refocus) $('pick-button').focus();
  }

  function onPicklistKey(event) {
    const all = options();
    const at = all.indexOf(document.activeElement);
    const focusAt = (i) => all[Math.max(0, Math.min(all.length - 1, i))].focus();
    switch (event.key) {
      case 'ArrowDown': focusAt(at + 1); break;
      case 'ArrowUp': focusAt(at - 1); break;
      case 'Home': focusAt(0); break;
      case 'End': focusAt(all.length - 1); break;
      case 'Enter':
        if (at >= 0) choose(all[at].dataset.label);
        break;
      case ' ':
        break; // chosen on keyup (onPicklistKeyUp), as a button is: no scrolling meanwhile
      case 'Escape': closePicklist(true); break;
      case 'Tab': closePicklist(false); return; // focus moves on as usual
      default: {
        // Type-ahead: the next state starting with the letter typed.
        if (event.key.length !== 1 || event.ctrlKey || event.metaKey || event.altKey) return;
        const letter = event.key.toLowerCase();
        for (let step = 1; step <= all.length; step++) {
          const option = all[(at + step) % all.length];
          if (option.dataset.label.toLowerCase().startsWith(letter)) {
            option.focus();
            break;
          }
        }
      }
    }
    event.preventDefault();
  }

  // Space chooses when released: choosing on keydown would move focus to the button, whose
  // own activation on the keyup would open the list again.
  function onPicklistKeyUp(event) {
    if (event.key !== ' ') return;
    const option = document.activeElement.closest && document.activeElement.closest('[role="option"]');
    if (option) choose(option.dataset.label);
    event.preventDefault();
  }

  async function choose(label) {
    closePicklist(true);
    const error = $('pick-error');
    error.hidden = true;
    const run = generation;
    const result = await api('PUT', `/api/v1/agents/${encodeURIComponent(me.user)}/state`, { label });
    if (run !== generation) return;
    if (!result.ok) {
      error.textContent = `Not changed: ${errorMessage(result, `error ${result.status}`)}`;
      error.hidden = false;
      return;
    }
    const answer = result.body && result.body.agent;
    if (answer) {
      apply(answer, null, 0);
      if (answer.pending && answer.pending.label === label && (!answer.state || answer.state.label !== label)) {
        announce(`${displayOf(label)} is your next state.`);
      }
    }
  }

  // ---- the live stream ----------------------------------------------------------------------

  function setConnection(state, text) {
    const conn = $('conn');
    conn.dataset.state = state;
    put('conn-text', text);
    $('banner').hidden = state !== 'reconnecting';
    document.body.classList.toggle('stale', state === 'reconnecting');
  }

  // The live stream (live.js): resumes after a drop, retries, signs out with the session; a
  // new server run (another epoch) may have another clock.
  const stream = window.PresenceLive.createStream({
    open: () => setConnection('live', 'Live'),
    reconnecting: () => setConnection('reconnecting', 'Reconnecting…'),
    snapshot: onSnapshot,
    agent: (message) => apply(message.agent, message.epoch, message.seq),
    epochChanged: () => syncClock(),
    sessionEnded: () => {
      endPage();
      showSignIn('Your session has ended. Sign in again to continue.');
    },
  });

  function onSnapshot(message) {
    setConnection('live', 'Live');
    loadStates(); // a reconnect may follow a restart or a reload with another catalog
    const own = (message.agents || []).find((a) => me && a.id === me.user);
    if (own) apply(own, message.epoch, message.seq);
    else loadToday(); // no state yet, or a new server run: the day from the ledger
  }

  // ---- session ------------------------------------------------------------------------------

  function showSignIn(note, error) {
    $('me').hidden = true;
    $('signin').hidden = false;
    setConnection('idle', 'Not connected');
    $('signin-note').hidden = !note;
    $('signin-note').textContent = note || '';
    $('signin-error').hidden = !error;
    $('signin-error').textContent = error || '';
    $('token').focus();
  }

  function refuseRole(role) {
    return `This page is for agents: a ${role} token cannot sign in here. ` +
      'Use your own agent token (supervisors use the dashboard).';
  }

  async function signIn(event) {
    event.preventDefault();
    const input = $('token');
    const token = input.value.trim();
    const error = $('signin-error');
    const fail = (text) => {
      error.textContent = text;
      error.hidden = false;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    };
    if (!token) return fail('Enter your agent token.');
    input.value = ''; // the token does not stay in the page
    const button = $('signin-submit');
    button.disabled = true;
    // Who the token is, before a session is opened for it: only an agent token signs in here.
    const who = await api('GET', '/api/v1/session', undefined, token);
    let result = who;
    if (who.ok && who.body && who.body.role === 'agent') {
      result = await api('POST', '/api/v1/session', { token });
    }
    button.disabled = false;
    if (!who.ok || !result.ok) {
      return fail(result.status === 401
        ? 'That token was not accepted. Check it and try again.'
        : `Could not sign in: ${errorMessage(result, `error ${result.status}`)}.`);
    }
    if (who.body.role !== 'agent') return fail(refuseRole(who.body.role));
    input.removeAttribute('aria-invalid');
    error.hidden = true;
    startPage(result.body);
  }

  async function signOut() {
    endPage();
    await api('DELETE', '/api/v1/session');
    showSignIn('You are signed out.');
  }

  function startPage(session) {
    me = session;
    generation++;
    view = null;
    viewEpoch = null;
    viewSeq = -1;
    today = new Map();
    todayAt = serverNow();
    todayEnds = null;
    lastStateKey = '';
    for (const id of Object.keys(written)) delete written[id];
    $('signin').hidden = true;
    $('me').hidden = false;
    put('me-name', me.name || me.user);
    put('state-text', 'No state yet');
    setConnection('connecting', 'Connecting…');
    syncClock();
    loadStates();
    stream.start();
    loadToday();
    scheduleTick();
  }

  function endPage() {
    generation++;
    clearTimeout(tickTimer);
    stream.stop();
    closePicklist(false);
    me = null;
    view = null;
    $('today-list').textContent = '';
    $('today-list').dataset.key = '';
    $('budget-list').textContent = '';
    $('budget-list').dataset.key = '';
    $('pick-error').hidden = true;
  }

  function wire() {
    $('signin-form').addEventListener('submit', signIn);
    $('sign-out').addEventListener('click', signOut);
    $('pick-button').addEventListener('click', () => {
      if ($('picklist').hidden) openPicklist();
      else closePicklist(true);
    });
    $('picklist').addEventListener('keydown', onPicklistKey);
    $('picklist').addEventListener('keyup', onPicklistKeyUp);
    $('picklist').addEventListener('click', (event) => {
      const option = event.target.closest('[role="option"]');
      if (option) choose(option.dataset.label);
    });
    // A click outside closes the open list.
    document.addEventListener('click', (event) => {
      if (!event.target.closest('.pick')) closePicklist(false);
    });
  }

  async function start() {
    wire();
    const session = await api('GET', '/api/v1/session');
    if (session.ok && session.body && session.body.role === 'agent') startPage(session.body);
    else if (session.ok && session.body) showSignIn(`You are signed in elsewhere as a ${session.body.role}. ${refuseRole(session.body.role)}`);
    else showSignIn(session.status === 0 ? 'The server cannot be reached; sign in when it is back.' : '');
  }

  start();
})();
