// Presence Agent supervisor dashboard. Plain script, no build step, no dependencies.
//
// Data flow: GET /api/v1/session decides between the sign-in form and the floor. The floor
// opens the live stream (SSE, /api/v1/stream: a "snapshot" of every user, then "agent"
// updates, ids "<epoch>-<seq>") and reads GET /api/v1/agents once for configured users never
// seen yet. Each user has one record in `records` holding its row element and the text last
// written to each cell, so an update touches only the cells that changed and the one-second
// tick rewrites only the time cells. Sorting and filtering move and hide existing rows.
'use strict';

(() => {
  // ---- constants ----------------------------------------------------------------------------

  const STATUSES = [
    { code: 1, key: 'online', name: 'Online', color: '#2e7d32' },
    { code: 2, key: 'offline', name: 'Offline', color: '#9e9e9e' },
    { code: 3, key: 'away', name: 'Away', color: '#f9a825' },
    { code: 4, key: 'dnd', name: 'DND', color: '#c62828' },
    { code: 5, key: 'busy', name: 'Busy', color: '#ef6c00' },
    { code: 6, key: 'oncall', name: 'On a call', color: '#1565c0' },
    { code: 7, key: 'logout', name: 'Logout', color: '#616161' },
  ];
  const STATUS_BY_CODE = new Map(STATUSES.map((s) => [s.code, s]));
  const UNSEEN = { code: 99, key: 'unseen', name: 'Not seen yet', color: '#b0b7c3' };
  const SOURCES = {
    agent: 'Agent', crm: 'CRM', call: 'Call', wrap_up: 'Wrap-up', supervisor: 'Supervisor',
    system: 'System', pbx: 'PBX',
  };
  const CELLS = ['name', 'ext', 'state', 'status', 'code', 'time', 'source', 'call', 'wrap', 'next', 'act'];
  const PREFS_KEY = 'presence-agent.dashboard';
  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

  // ---- state --------------------------------------------------------------------------------

  const records = new Map(); // user id -> record (see newRecord)
  let catalog = new Map(); // label -> state from GET /api/v1/states
  let stateList = [];
  let canOverride = false;
  let snapshots = 0; // snapshots received since the floor opened
  let tickTimer = 0;
  let frame = 0;
  let frameTimer = 0;
  let lastFlush = 0;
  const MIN_FLUSH_MS = 100; // under heavy traffic, at most ten renders a second
  let namesDirty = true; // name ranks must be recomputed
  const dirty = new Set(); // records whose view changed since the last frame
  let orderDirty = false; // sort or filter must be re-applied
  let summaryDirty = false;
  let breachCount = -1;
  let budgetCount = -1;
  let detailId = null; // user shown in the detail dialog
  let detailRefresh = 0;
  let generation = 0; // bumped at sign-out so late answers of the old session are ignored

  const prefs = Object.assign({ view: 'table', sort: 'name' }, readPrefs());
  const filter = { status: 'all', search: '' };
  const query = new URLSearchParams(location.search);
  let wallboard = query.get('wallboard') === '1';
  if (query.get('view') === 'tiles' || query.get('view') === 'table') prefs.view = query.get('view');

  // ---- small helpers ------------------------------------------------------------------------

  const { serverNow, syncClock, parseTime, duration, api, errorMessage } = window.PresenceLive;
  const $ = (id) => document.getElementById(id);
  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  };

  function readPrefs() {
    try {
      return JSON.parse(localStorage.getItem(PREFS_KEY) || '{}') || {};
    } catch {
      return {};
    }
  }

  function savePrefs() {
    try {
      localStorage.setItem(PREFS_KEY, JSON.stringify({ view: prefs.view, sort: prefs.sort }));
    } catch {
      // Storage may be disabled; preferences are a convenience.
    }
  }

  // Threshold as people say it: 1800 -> "30 min", 90 -> "1:30", 7200 -> "2 h".
  function limitText(seconds) {
    if (seconds % 3600 === 0) return `${seconds / 3600} h`;
    if (seconds % 60 === 0) return `${seconds / 60} min`;
    if (seconds < 60) return `${seconds} s`;
    return duration(seconds);
  }

  function clockText(ms) {
    return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }

  function shortTime(ms) {
    return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  // Black or white text, whichever reads better on the catalog colour.
  function inkFor(hex) {
    const m = /^#?([0-9a-f]{6})$/i.exec(hex || '');
    if (!m) return '#fff';
    const n = parseInt(m[1], 16);
    const lin = (c) => {
      const v = c / 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    };
    const lum = 0.2126 * lin((n >> 16) & 255) + 0.7152 * lin((n >> 8) & 255) + 0.0722 * lin(n & 255);
    return (lum + 0.05) / 0.05 > 1.05 / (lum + 0.05) ? '#111' : '#fff';
  }

  function statusOf(view) {
    const state = view && view.state;
    if (!state) return UNSEEN;
    return STATUS_BY_CODE.get(state.status) || { code: 98, key: 'unknown', name: 'Unknown', color: '#777' };
  }

  function colorOfLabel(label, status) {
    const known = catalog.get(label);
    if (known && known.color) return known.color;
    return (STATUS_BY_CODE.get(status) || UNSEEN).color;
  }

  // ---- records and rows ---------------------------------------------------------------------

  function newRecord(id) {
    const row = el('tr');
    row.dataset.id = id;
    row.setAttribute('role', 'row'); // the grid layout needs the table roles said explicitly
    const cells = {};
    for (const name of CELLS) {
      const cell = el('td', `c-${name}`);
      cell.setAttribute('role', 'cell');
      row.appendChild(cell);
      cells[name] = cell;
    }
    const nameButton = el('button', 'name-btn');
    nameButton.type = 'button';
    const nameText = el('span', 'name-text');
    const team = el('span', 'team');
    nameButton.append(nameText, team);
    cells.name.appendChild(nameButton);

    const chip = el('span', 'chip');
    // What the phone system holds that the state's actions did not ask for (a DND pressed on
    // the phone, a forward the PBX did not take): text, not only colour.
    const pbx = el('span', 'pbx-flag');
    pbx.hidden = true;
    cells.state.append(chip, pbx);

    const timeText = el('span', 't');
    const over = el('span', 'over');
    // Today's budget of some state used up (budget_seconds_per_day): in words, under the time.
    const budget = el('span', 'budget-flag');
    budget.hidden = true;
    cells.time.append(timeText, over, budget);

    const overrideButton = el('button', 'btn small ov-btn', 'Override…');
    overrideButton.type = 'button';
    cells.act.appendChild(overrideButton);

    const record = {
      id,
      row,
      cells,
      parts: { nameText, team, chip, pbx, budget, timeText, over, overrideButton },
      text: {}, // cell key -> text last written
      view: null,
      epoch: null,
      seq: -1,
      status: UNSEEN,
      sinceMs: null,
      alertAfter: 0,
      breach: false,
      budgets: null, // { dayEnds, states: [{ label, budget, used, countingSince }] }
      overBudget: '', // labels over budget, as shown
      calls: [],
      wrapUntil: null,
      search: '',
      visible: true,
      nameRank: 0,
    };
    records.set(id, record);
    $('rows').appendChild(row);
    orderDirty = true;
    namesDirty = true;
    summaryDirty = true;
    return record;
  }

  function put(record, key, node, text) {
    if (record.text[key] === text) return;
    record.text[key] = text;
    node.textContent = text;
  }

  function putTitle(record, key, node, title) {
    if (record.text[key] === title) return;
    record.text[key] = title;
    if (title) node.title = title;
    else node.removeAttribute('title');
  }

  // Writes the cells that depend on the view (not on the clock).
  function render(record) {
    const view = record.view;
    const state = view.state;
    const { cells, parts } = record;
    const name = view.name || view.id;
    if (record.text.name !== name) namesDirty = true;
    put(record, 'name', parts.nameText, name);
    put(record, 'team', parts.team, view.team || '');
    put(record, 'ext', cells.ext, view.extension || '');
    put(record, 'label', parts.chip, state ? state.label : 'Not seen yet');
    const color = state ? state.color || statusOf(view).color : '';
    if (record.text.color !== color) {
      record.text.color = color;
      if (color) {
        record.row.style.setProperty('--state', color);
        parts.chip.style.background = color;
        parts.chip.style.color = inkFor(color);
        parts.chip.classList.remove('none');
      } else {
        record.row.style.removeProperty('--state');
        parts.chip.style.background = '';
        parts.chip.style.color = '';
        parts.chip.classList.add('none');
      }
    }
    const status = statusOf(view);
    if (record.status !== status) {
      record.status = status;
      record.row.dataset.status = status.key;
      summaryDirty = true;
    }
    put(record, 'status', cells.status, state ? state.status_name || status.name : '');
    put(record, 'code', cells.code, state && state.reason_code ? state.reason_code : '');
    put(record, 'source', cells.source, view.source ? SOURCES[view.source] || view.source : '');
    putTitle(record, 'cause', cells.source, view.cause ? `cause: ${view.cause}` : '');
    const mismatches = view.pbx_mismatches || [];
    put(record, 'pbx', parts.pbx, mismatches.length ? `PBX differs (${mismatches.length})` : '');
    parts.pbx.hidden = mismatches.length === 0;
    putTitle(record, 'pbxTitle', parts.pbx, mismatches.map((m) =>
      `${m.item}: the state asks for ${m.wanted}, the PBX has ${m.actual}` +
      (m.manual ? ' (changed on the phone; kept until the next change of state)' : ' (retrying)'))
      .join('\n'));
    const pending = view.pending;
    put(record, 'next', cells.next, pending ? `→ ${pending.label}` : '');
    putTitle(record, 'nextTitle', cells.next,
      pending ? `Next: ${pending.label}, chosen by ${SOURCES[pending.source] || pending.source}` : '');
    const label = `Override the state of ${name}`;
    if (record.text.ovLabel !== label) {
      record.text.ovLabel = label;
      parts.overrideButton.setAttribute('aria-label', label);
    }

    const since = parseTime(view.since);
    if (since !== record.sinceMs) {
      record.sinceMs = since;
      if (prefs.sort === 'time') orderDirty = true;
    }
    record.alertAfter = state && state.alert_after_seconds > 0 ? state.alert_after_seconds : 0;
    put(record, 'overText', parts.over, record.alertAfter ? `over ${limitText(record.alertAfter)}` : '');
    record.calls = (view.active_calls || []).map((c) => ({
      direction: c.direction,
      internal: c.internal,
      started: parseTime(c.started),
      answered: parseTime(c.answered),
    }));
    record.wrapUntil = parseTime(view.wrap_up_until);
    record.budgets = view.budgets ? {
      dayEnds: parseTime(view.budgets.day_ends),
      states: (view.budgets.states || []).map((b) => ({
        label: b.label,
        budget: b.budget_seconds * 1000,
        used: b.used_seconds * 1000,
        countingSince: parseTime(b.counting_since),
      })),
    } : null;
    record.search = [name, view.id, view.extension, view.team, state && state.label,
      state && state.status_name].filter(Boolean).join(' ').toLowerCase();
    if (filter.search || filter.status !== 'all' || prefs.sort !== 'name') orderDirty = true;
    if (tickRecord(record, serverNow())) summaryDirty = true; // a flag came or went
  }

  // Labels of the states whose budget for today the user has used up, as of `now` (see
  // "budgets" in the API: used before counting_since, plus the time since while in the state).
  function overBudgetLabels(budgets, now) {
    if (!budgets) return [];
    const over = [];
    for (const b of budgets.states) {
      let used = b.used;
      if (b.countingSince !== null) used += Math.max(0, now - b.countingSince);
      if (budgets.dayEnds !== null && now >= budgets.dayEnds) {
        // A new day since the view was made: only the running state's time since midnight.
        const days = Math.floor((now - budgets.dayEnds) / 86400000);
        const dayStart = budgets.dayEnds + days * 86400000;
        used = b.countingSince !== null ? now - Math.max(b.countingSince, dayStart) : 0;
      }
      if (used > b.budget) over.push(b.label);
    }
    return over;
  }

  // Writes the clock-dependent cells; returns true when the breach or budget flag changed.
  function tickRecord(record, now) {
    const { cells, parts } = record;
    let elapsed = null;
    if (record.sinceMs !== null) {
      elapsed = Math.max(0, Math.floor((now - record.sinceMs) / 1000));
      put(record, 'time', parts.timeText, duration(elapsed));
    } else {
      put(record, 'time', parts.timeText, '');
    }

    let callText = '';
    if (record.calls.length > 0) {
      const call = record.calls.find((c) => c.answered !== null) || record.calls[0];
      const way = call.direction === 'outbound' ? 'Out' : 'In';
      const kind = call.internal ? ' (internal)' : '';
      const timer = call.answered !== null
        ? duration((now - call.answered) / 1000)
        : `ringing ${duration((now - (call.started || now)) / 1000)}`;
      callText = `${record.calls.length > 1 ? `${record.calls.length} calls · ` : ''}${way}${kind} ${timer}`;
    }
    put(record, 'call', cells.call, callText);

    const wrapText = record.wrapUntil !== null
      ? `${duration(Math.round(Math.max(0, record.wrapUntil - now) / 1000))} left`
      : '';
    put(record, 'wrap', cells.wrap, wrapText);

    let flagsChanged = false;
    const overBudget = overBudgetLabels(record.budgets, now).join(', ');
    if (overBudget !== record.overBudget) {
      record.overBudget = overBudget;
      put(record, 'budget', parts.budget, overBudget ? `over budget: ${overBudget}` : '');
      putTitle(record, 'budgetTitle', parts.budget,
        overBudget ? `Used more than today's budget of ${overBudget}` : '');
      parts.budget.hidden = !overBudget;
      record.row.classList.toggle('over-budget', !!overBudget);
      flagsChanged = true;
    }

    const breach = record.alertAfter > 0 && elapsed !== null && now - record.sinceMs > record.alertAfter * 1000;
    if (breach === record.breach) return flagsChanged;
    record.breach = breach;
    record.row.classList.toggle('breach', breach);
    return true;
  }

  // Applies a user's view if it is not older than what the record shows. `epoch`/`seq` say
  // where it comes from: the stream's numbering, or the same numbering in GET /agents.
  function apply(view, epoch, seq) {
    let record = records.get(view.id);
    if (record && record.epoch) {
      if (record.epoch === epoch) {
        if (seq < record.seq) return;
      } else if (epoch !== stream.epoch) {
        return; // an answer from another process run than the stream's: the stream wins
      }
    }
    if (!record) record = newRecord(view.id);
    record.view = view;
    record.epoch = epoch;
    record.seq = seq;
    dirty.add(record);
    schedule();
  }

  function removeRecord(record) {
    record.row.remove();
    records.delete(record.id);
    dirty.delete(record);
    namesDirty = true;
    summaryDirty = true;
    orderDirty = true;
  }

  // Renders at the next frame, but not more often than every MIN_FLUSH_MS: a burst of updates
  // is drawn once.
  function schedule() {
    if (frame || frameTimer) return;
    const wait = lastFlush + MIN_FLUSH_MS - performance.now();
    if (wait <= 0) {
      frame = requestAnimationFrame(flush);
      return;
    }
    frameTimer = setTimeout(() => {
      frameTimer = 0;
      frame = requestAnimationFrame(flush);
    }, wait);
  }

  // Once per frame: render changed rows, then the summary and the order if they need it.
  function flush() {
    frame = 0;
    lastFlush = performance.now();
    for (const record of dirty) render(record);
    if (detailId !== null && records.has(detailId) && dirty.has(records.get(detailId))) {
      refreshDetailSoon();
    }
    dirty.clear();
    if (summaryDirty) updateSummary();
    if (orderDirty) applyOrder();
  }

  // ---- summary, filter, order ---------------------------------------------------------------

  const summaryCounts = new Map();

  function buildSummary() {
    const box = $('summary');
    box.textContent = '';
    const select = $('f-status');
    select.textContent = '';
    select.appendChild(new Option('All statuses', 'all'));
    const entries = [...STATUSES, UNSEEN, { key: 'breach', name: 'Over limit', color: '#d32f2f' },
      { key: 'budget', name: 'Over budget', color: '#6a1b9a' }];
    for (const entry of entries) {
      const chip = el('button', `sum sum-${entry.key}`);
      chip.type = 'button';
      chip.dataset.filter = entry.key;
      chip.id = `sum-${entry.key}`;
      chip.setAttribute('aria-pressed', 'false');
      const dot = el('span', 'sum-dot');
      dot.style.background = entry.color;
      dot.setAttribute('aria-hidden', 'true');
      const count = el('span', 'sum-n', '0');
      const label = el('span', 'sum-l', entry.name);
      chip.append(dot, count, label);
      chip.addEventListener('click', () => setStatusFilter(filter.status === entry.key ? 'all' : entry.key));
      box.appendChild(chip);
      summaryCounts.set(entry.key, { chip, count, value: -1 });
      select.appendChild(new Option(entry.name, entry.key));
    }
    breachCount = -1;
    budgetCount = -1;
    summaryDirty = true;
  }

  function setCount(key, value) {
    const entry = summaryCounts.get(key);
    if (!entry || entry.value === value) return;
    entry.value = value;
    entry.count.textContent = String(value);
    entry.chip.classList.toggle('zero', value === 0);
    if (key === 'unseen') entry.chip.hidden = value === 0 && filter.status !== 'unseen';
    if (key === 'budget') entry.chip.hidden = !catalogHasBudgets();
  }

  function catalogHasBudgets() {
    return stateList.some((s) => s.budget_seconds_per_day > 0);
  }

  function updateSummary() {
    summaryDirty = false;
    const counts = new Map();
    let breaches = 0;
    let overBudget = 0;
    for (const record of records.values()) {
      counts.set(record.status.key, (counts.get(record.status.key) || 0) + 1);
      if (record.breach) breaches++;
      if (record.overBudget) overBudget++;
    }
    for (const status of [...STATUSES, UNSEEN]) setCount(status.key, counts.get(status.key) || 0);
    setBreaches(breaches);
    setOverBudget(overBudget);
  }

  function setOverBudget(count) {
    if (count === budgetCount) return;
    budgetCount = count;
    setCount('budget', count);
    summaryCounts.get('budget').chip.classList.toggle('alert', count > 0);
  }

  function setBreaches(count) {
    if (count === breachCount) return;
    breachCount = count;
    setCount('breach', count);
    summaryCounts.get('breach').chip.classList.toggle('alert', count > 0);
    document.title = count > 0 ? `(${count} over limit) Presence Agent · Floor` : 'Presence Agent · Floor';
  }

  function setStatusFilter(key) {
    filter.status = key;
    $('f-status').value = key;
    for (const [k, entry] of summaryCounts) entry.chip.setAttribute('aria-pressed', String(k === key));
    const unseen = summaryCounts.get('unseen');
    if (unseen) unseen.chip.hidden = unseen.value === 0 && key !== 'unseen';
    applyOrder(); // a person's action: answered at once
  }

  function matches(record) {
    if (filter.status === 'breach') {
      if (!record.breach) return false;
    } else if (filter.status === 'budget') {
      if (!record.overBudget) return false;
    } else if (filter.status !== 'all' && record.status.key !== filter.status) {
      return false;
    }
    return !filter.search || record.search.includes(filter.search);
  }

  function nameOf(record) {
    return (record.view && record.view.name) || record.id;
  }

  // Each record's place in name order, so sorts compare numbers instead of collating strings.
  function rankNames() {
    namesDirty = false;
    const list = [...records.values()];
    list.sort((a, b) => collator.compare(nameOf(a), nameOf(b)) || collator.compare(a.id, b.id));
    list.forEach((record, i) => { record.nameRank = i; });
  }

  const ORDERS = {
    name: (a, b) => a.nameRank - b.nameRank,
    ext: (a, b) => collator.compare((a.view && a.view.extension) || '', (b.view && b.view.extension) || '') ||
      ORDERS.name(a, b),
    time: (a, b) => {
      if (a.sinceMs === null || b.sinceMs === null) {
        if (a.sinceMs !== b.sinceMs) return a.sinceMs === null ? 1 : -1;
        return ORDERS.name(a, b);
      }
      return a.sinceMs - b.sinceMs || ORDERS.name(a, b);
    },
    status: (a, b) => a.status.code - b.status.code || ORDERS.name(a, b),
  };

  // Hides what the filter excludes and moves rows into sort order, touching only rows that
  // are out of place.
  function applyOrder() {
    orderDirty = false;
    if (namesDirty) rankNames();
    const compare = ORDERS[prefs.sort] || ORDERS.name;
    const list = [...records.values()];
    let shown = 0;
    for (const record of list) {
      record.visible = matches(record);
      if (record.visible) shown++;
      if (record.row.hidden === record.visible) record.row.hidden = !record.visible;
    }
    list.sort((a, b) => (a.visible === b.visible ? compare(a, b) : a.visible ? -1 : 1));
    placeRows(list.map((record) => record.row));
    const text = shown === records.size ? `${shown} users` : `${shown} of ${records.size} users shown`;
    if ($('shown').textContent !== text) $('shown').textContent = text;
    $('empty').hidden = shown > 0 || records.size === 0;
  }

  // Puts the rows in `wanted` order with as few DOM moves as possible: the rows that form the
  // longest run already in order stay; only the others move (one insertBefore each). A state
  // change under "longest in state" moves one row, not every row after it.
  function placeRows(wanted) {
    const body = $('rows');
    const rank = new Map(wanted.map((row, i) => [row, i]));
    const current = Array.from(body.children, (row) => rank.get(row));
    // Longest increasing subsequence of the current ranks (patience sorting).
    const tails = []; // tails[k]: index in `current` ending the best run of length k + 1
    const previous = new Array(current.length);
    for (let i = 0; i < current.length; i++) {
      let lo = 0;
      let hi = tails.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (current[tails[mid]] < current[i]) lo = mid + 1;
        else hi = mid;
      }
      previous[i] = lo > 0 ? tails[lo - 1] : -1;
      tails[lo] = i;
    }
    const stay = new Set();
    for (let i = tails.length ? tails[tails.length - 1] : -1; i >= 0; i = previous[i]) {
      stay.add(wanted[current[i]]);
    }
    if (stay.size === wanted.length) return;
    let next = null;
    for (let i = wanted.length - 1; i >= 0; i--) {
      const row = wanted[i];
      if (!stay.has(row)) body.insertBefore(row, next);
      next = row;
    }
  }

  // ---- the clock ----------------------------------------------------------------------------

  function scheduleTick() {
    clearTimeout(tickTimer);
    const now = serverNow();
    tickTimer = setTimeout(tick, 1000 - (now % 1000) + 5);
  }

  // Once a second: only the time-dependent text, one pass over the records.
  function tick() {
    const now = serverNow();
    let breaches = 0;
    let overBudget = 0;
    let changed = false;
    for (const record of records.values()) {
      if (tickRecord(record, now)) changed = true;
      if (record.breach) breaches++;
      if (record.overBudget) overBudget++;
    }
    setBreaches(breaches);
    setOverBudget(overBudget);
    if (changed && (filter.status === 'breach' || filter.status === 'budget')) {
      orderDirty = true;
      schedule();
    }
    $('clock').textContent = clockText(now);
    tickDetail(now);
    scheduleTick();
  }

  // ---- the live stream ----------------------------------------------------------------------

  function setConnection(state, text) {
    const conn = $('conn');
    if (conn.dataset.state === state && $('conn-text').textContent === text) return;
    conn.dataset.state = state;
    $('conn-text').textContent = text;
    const down = state === 'reconnecting';
    $('banner').hidden = !down;
    $('agents').classList.toggle('stale', down);
  }

  // The live stream (live.js): resumes after a drop, retries, ends the floor with the session.
  const stream = window.PresenceLive.createStream({
    open: () => setConnection('live', 'Live'),
    reconnecting: () => setConnection('reconnecting', 'Reconnecting…'),
    snapshot: onSnapshot,
    agent: (message) => apply(message.agent, message.epoch, message.seq),
    sessionEnded: () => {
      endFloor();
      showSignIn('Your session has ended (the server may have restarted). Sign in again to continue.');
    },
  });

  function onSnapshot(message) {
    const reconnect = snapshots > 0;
    snapshots++;
    setConnection('live', 'Live');
    const seen = new Set();
    for (const view of message.agents || []) {
      seen.add(view.id);
      apply(view, message.epoch, message.seq);
    }
    if (reconnect) {
      // A fresh snapshot after a reconnect: users it lacks are either configured but unseen
      // by this server run, or gone. GET /agents tells which, once.
      syncClock();
      loadAgents(seen, message.epoch, message.seq);
    }
  }

  // GET /api/v1/agents: configured users never seen (state null) and, after a reconnect,
  // which rows the new snapshot no longer covers.
  async function loadAgents(snapshotIds, snapshotEpoch, snapshotSeq) {
    const run = generation;
    const result = await api('GET', '/api/v1/agents');
    if (run !== generation || !result.ok || !result.body) return;
    const listed = new Set();
    for (const view of result.body.agents || []) {
      listed.add(view.id);
      apply(view, result.body.epoch, result.body.seq);
    }
    if (snapshotIds) {
      for (const record of [...records.values()]) {
        if (listed.has(record.id) || snapshotIds.has(record.id)) continue;
        if (record.epoch === snapshotEpoch && record.seq > snapshotSeq) continue; // newer news
        removeRecord(record);
      }
      schedule();
    }
  }

  async function loadStates() {
    const result = await api('GET', '/api/v1/states');
    if (!result.ok || !Array.isArray(result.body)) return;
    stateList = result.body;
    catalog = new Map(stateList.map((s) => [s.label, s]));
    const budgetChip = summaryCounts.get('budget');
    if (budgetChip) budgetChip.chip.hidden = !catalogHasBudgets();
    const select = $('d-state');
    select.textContent = '';
    for (const state of stateList) {
      const option = new Option(state.display || `${state.label} (${state.status_name})`, state.label);
      select.appendChild(option);
    }
    for (const status of STATUSES) {
      const first = stateList.find((s) => s.status === status.code && s.color);
      const entry = summaryCounts.get(status.key);
      if (first && entry) entry.chip.querySelector('.sum-dot').style.background = first.color;
    }
  }

  // ---- session ------------------------------------------------------------------------------

  function showSignIn(note) {
    $('floor').hidden = true;
    $('top-actions').hidden = true;
    $('signin').hidden = false;
    setConnection('idle', 'Not connected');
    $('banner').hidden = true;
    const noteBox = $('signin-note');
    noteBox.hidden = !note;
    noteBox.textContent = note || '';
    $('signin-error').hidden = true;
    $('token').focus();
  }

  async function signIn(event) {
    event.preventDefault();
    const input = $('token');
    const token = input.value.trim();
    const error = $('signin-error');
    if (!token) {
      error.textContent = 'Enter a token.';
      error.hidden = false;
      input.setAttribute('aria-invalid', 'true');
      return;
    }
    input.value = ''; // the token does not stay in the page
    const button = $('signin-submit');
    button.disabled = true;
    const result = await api('POST', '/api/v1/session', { token });
    button.disabled = false;
    if (!result.ok) {
      error.textContent = result.status === 401
        ? 'That token was not accepted. Check it and try again.'
        : `Could not sign in: ${errorMessage(result, `error ${result.status}`)}.`;
      error.hidden = false;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    input.removeAttribute('aria-invalid');
    error.hidden = true;
    startFloor(result.body);
  }

  async function signOut() {
    endFloor();
    await api('DELETE', '/api/v1/session');
    showSignIn('You are signed out.');
  }

  function startFloor(session) {
    const role = session && session.role;
    if (role !== 'supervisor' && role !== 'admin' && role !== 'integration') {
      showSignIn();
      const error = $('signin-error');
      error.textContent = '';
      if (role === 'agent') {
        // An agent's session stays: it is the one their own page (/agent/) uses.
        error.append('You are signed in as an agent, who cannot watch the floor. ');
        const link = el('a', '', 'Open your agent page');
        link.href = '/agent/';
        error.append(link, ', or sign in here with a supervisor token.');
      } else {
        api('DELETE', '/api/v1/session');
        error.textContent = `A token with the role "${role}" cannot watch the floor; use a supervisor token.`;
      }
      error.hidden = false;
      return;
    }
    canOverride = role === 'supervisor' || role === 'admin';
    document.body.classList.toggle('can-override', canOverride);
    $('who').textContent = `${session.name || role} (${role})`;
    $('signin').hidden = true;
    $('signin-note').hidden = true;
    $('floor').hidden = false;
    $('top-actions').hidden = false;
    setConnection('connecting', 'Connecting…');
    generation++;
    snapshots = 0;
    syncClock();
    loadStates();
    stream.start();
    loadAgents(null);
  }

  // Forgets everything of the session: stream, rows, dialogs.
  function endFloor() {
    generation++;
    stream.stop();
    clearTimeout(frameTimer);
    frameTimer = 0;
    for (const record of [...records.values()]) removeRecord(record);
    dirty.clear();
    closeDetail();
    if ($('confirm').open) $('confirm').close();
    updateSummary();
    applyOrder();
  }

  // ---- detail: the user's day, and the override -------------------------------------------

  let detailTimeNode = null;

  function openDetail(id, focusOverride) {
    const record = records.get(id);
    if (!record || wallboard) return;
    detailId = id;
    $('d-error').hidden = true;
    $('d-result').hidden = true;
    renderDetailHead();
    $('d-timeline').textContent = '';
    $('d-axis').textContent = '';
    $('d-totals').textContent = '';
    $('d-intervals').textContent = '';
    $('d-loading').hidden = false;
    const dialog = $('detail');
    if (!dialog.open) dialog.showModal();
    if (focusOverride && canOverride) $('d-state').focus();
    loadDetail();
  }

  function closeDetail() {
    detailId = null;
    clearTimeout(detailRefresh);
    if ($('detail').open) $('detail').close();
  }

  function renderDetailHead() {
    const record = records.get(detailId);
    if (!record) return;
    const view = record.view;
    $('d-title').textContent = view.name || view.id;
    $('d-sub').textContent = [view.extension ? `Extension ${view.extension}` : '', view.team || '', `id ${view.id}`]
      .filter(Boolean).join(' · ');
    const now = $('d-now');
    now.textContent = '';
    if (!view.state) {
      now.textContent = 'Not seen yet: no event from this user since the ledger began.';
      detailTimeNode = null;
    } else {
      const chip = el('span', 'chip', view.state.label);
      const color = view.state.color || statusOf(view).color;
      chip.style.background = color;
      chip.style.color = inkFor(color);
      detailTimeNode = el('strong', 'd-time');
      now.append(chip, ` ${view.state.status_name || ''} · for `, detailTimeNode,
        ` · set by ${SOURCES[view.source] || view.source || '?'}`);
      if (view.pending) now.append(` · next: ${view.pending.label}`);
      tickDetail(serverNow());
    }
    const select = $('d-state');
    if (view.state && catalog.has(view.state.label) && select.dataset.user !== detailId) {
      // Offer the first other state by default so a stray Enter cannot re-apply the current one.
      const other = stateList.find((s) => s.label !== view.state.label && s.selectable !== false);
      if (other) select.value = other.label;
    }
    select.dataset.user = detailId;
  }

  function tickDetail(now) {
    if (!detailTimeNode || detailId === null) return;
    const record = records.get(detailId);
    if (record && record.sinceMs !== null) detailTimeNode.textContent = duration((now - record.sinceMs) / 1000);
  }

  function refreshDetailSoon() {
    clearTimeout(detailRefresh);
    renderDetailHead();
    detailRefresh = setTimeout(loadDetail, 400);
  }

  async function loadDetail() {
    const id = detailId;
    if (id === null) return;
    const path = `/api/v1/agents/${encodeURIComponent(id)}`;
    const [intervals, agent] = await Promise.all([api('GET', `${path}/intervals`), api('GET', path)]);
    if (id !== detailId) return;
    $('d-loading').hidden = true;
    if (!intervals.ok || !agent.ok) {
      showDetailError(`Could not load the day: ${errorMessage(intervals.ok ? agent : intervals, 'error')}.`);
      return;
    }
    drawTimeline(intervals.body);
    drawTotals(agent.body.today || []);
  }

  function showDetailError(text) {
    const error = $('d-error');
    error.textContent = text;
    error.hidden = false;
  }

  function drawTimeline(data) {
    const box = $('d-timeline');
    const axis = $('d-axis');
    const list = $('d-intervals');
    box.textContent = '';
    axis.textContent = '';
    list.textContent = '';
    const from = parseTime(data.from);
    const to = parseTime(data.to);
    const items = (data.intervals || []).map((i) => ({
      ...i,
      startMs: Math.max(parseTime(i.start), from),
      endMs: Math.min(i.end ? parseTime(i.end) : to, to),
    }));
    const shown = items.filter((i) => i.endMs > i.startMs);
    if (shown.length === 0) {
      box.appendChild(el('span', 'tl-empty', 'No time recorded today.'));
      box.setAttribute('aria-label', 'No time recorded today');
      return;
    }
    const hour = 3600000;
    const start = Math.floor(shown[0].startMs / hour) * hour;
    const end = Math.max(to, start + hour / 4);
    const span = end - start;
    const pct = (ms) => `${(((ms - start) / span) * 100).toFixed(3)}%`;
    const summary = [];
    for (const item of shown) {
      const seg = el('div', 'seg');
      const color = colorOfLabel(item.label, item.status);
      seg.style.left = pct(item.startMs);
      seg.style.width = `${(((item.endMs - item.startMs) / span) * 100).toFixed(3)}%`;
      seg.style.background = color;
      seg.style.color = inkFor(color);
      const secs = (item.endMs - item.startMs) / 1000;
      const text = `${item.label}, ${shortTime(item.startMs)}–${item.end ? shortTime(item.endMs) : 'now'} (${duration(secs)}), by ${SOURCES[item.source] || item.source}`;
      seg.title = text;
      if ((item.endMs - item.startMs) / span > 0.09) seg.textContent = item.label;
      box.appendChild(seg);
      summary.push(text);
    }
    box.setAttribute('aria-label', `Timeline of today: ${summary.slice(-12).join('; ')}`);
    // Axis ticks: a step that gives at most about eight labels.
    const steps = [15, 30, 60, 120, 180, 240, 360].map((m) => m * 60000);
    const step = steps.find((s) => span / s <= 8) || 720 * 60000;
    for (let t = Math.ceil(start / step) * step; t <= end; t += step) {
      const tickNode = el('span', 'tick', shortTime(t));
      tickNode.style.left = pct(t);
      axis.appendChild(tickNode);
    }
    for (const item of [...items].reverse()) {
      const tr = el('tr');
      const swatch = el('span', 'swatch');
      swatch.style.background = colorOfLabel(item.label, item.status);
      const stateCell = el('td');
      stateCell.append(swatch, item.label);
      tr.append(
        el('td', 'num', clockText(item.startMs)),
        el('td', 'num', item.end ? clockText(item.endMs) : 'now'),
        el('td', 'num', duration((item.endMs - item.startMs) / 1000)),
        stateCell,
        el('td', '', `${SOURCES[item.source] || item.source}${item.cause ? ` (${item.cause})` : ''}`),
      );
      list.appendChild(tr);
    }
  }

  function drawTotals(today) {
    const list = $('d-totals');
    list.textContent = '';
    const items = [...today].sort((a, b) => b.seconds - a.seconds);
    if (items.length === 0) {
      list.appendChild(el('li', 'muted', 'Nothing yet today.'));
      return;
    }
    const most = Math.max(...items.map((i) => i.seconds), 1);
    for (const item of items) {
      const li = el('li');
      const label = el('span', 'tot-l', `${item.label}`);
      const bar = el('span', 'tot-bar');
      const fill = el('span', 'tot-fill');
      fill.style.width = `${Math.max(1, (item.seconds / most) * 100).toFixed(1)}%`;
      fill.style.background = colorOfLabel(item.label, item.status);
      bar.appendChild(fill);
      const value = el('span', 'tot-v', `${duration(item.seconds)}`);
      value.title = `${Math.round(item.seconds)} s`;
      li.append(label, bar, value);
      list.appendChild(li);
    }
  }

  function askOverride() {
    const record = records.get(detailId);
    if (!record) return;
    const label = $('d-state').value;
    const target = catalog.get(label);
    const current = record.view.state ? record.view.state.label : 'not seen yet';
    $('c-text').textContent =
      `Set ${nameOf(record)}${record.view.extension ? ` (ext. ${record.view.extension})` : ''} ` +
      `from “${current}” to “${label}”${target ? ` (${target.status_name})` : ''}? ` +
      'It applies at once, cancels any pending choice or wrap-up, and is recorded as a supervisor override.';
    $('c-ok').textContent = `Set to ${label}`;
    $('c-ok').dataset.label = label;
    $('confirm').showModal();
    $('c-cancel').focus();
  }

  async function confirmOverride() {
    const id = detailId;
    const label = $('c-ok').dataset.label;
    $('confirm').close();
    if (!id || !label) return;
    $('d-error').hidden = true;
    $('d-result').hidden = true;
    $('d-apply').disabled = true;
    const result = await api('POST', `/api/v1/agents/${encodeURIComponent(id)}/override`, { label });
    $('d-apply').disabled = false;
    if (id !== detailId) return;
    if (!result.ok) {
      showDetailError(`The state was not changed: ${errorMessage(result, `error ${result.status}`)}`);
      return;
    }
    const done = $('d-result');
    done.textContent = `Set to ${label}.`;
    done.hidden = false;
  }

  // ---- views: table, tiles, wallboard -------------------------------------------------------

  function applyView() {
    const tiles = prefs.view === 'tiles';
    $('agents').classList.toggle('tiles', tiles);
    const button = $('view-toggle');
    button.textContent = tiles ? 'Table' : 'Tiles';
    button.setAttribute('aria-pressed', String(tiles));
    button.setAttribute('aria-label', tiles ? 'Show as a table' : 'Show as tiles');
    document.documentElement.classList.toggle('wallboard', wallboard);
    $('wallboard-toggle').setAttribute('aria-pressed', String(wallboard));
    if (wallboard) closeDetail();
  }

  function setWallboard(on) {
    wallboard = on;
    const params = new URLSearchParams(location.search);
    if (on) params.set('wallboard', '1');
    else params.delete('wallboard');
    const search = params.toString();
    history.replaceState(null, '', `${location.pathname}${search ? `?${search}` : ''}${location.hash}`);
    applyView();
  }

  // ---- wiring -------------------------------------------------------------------------------

  function wire() {
    $('signin-form').addEventListener('submit', signIn);
    $('sign-out').addEventListener('click', signOut);
    $('view-toggle').addEventListener('click', () => {
      prefs.view = prefs.view === 'tiles' ? 'table' : 'tiles';
      savePrefs();
      applyView();
    });
    $('wallboard-toggle').addEventListener('click', () => setWallboard(true));
    $('wallboard-exit').addEventListener('click', () => setWallboard(false));
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && wallboard && !$('detail').open) setWallboard(false);
    });
    $('f-status').addEventListener('change', (event) => setStatusFilter(event.target.value));
    $('f-search').addEventListener('input', (event) => {
      filter.search = event.target.value.trim().toLowerCase();
      applyOrder();
    });
    const sort = $('f-sort');
    sort.value = ORDERS[prefs.sort] ? prefs.sort : 'name';
    sort.addEventListener('change', () => {
      prefs.sort = sort.value;
      savePrefs();
      applyOrder();
    });
    // One listener for every row: the name opens the day, the button the override.
    $('rows').addEventListener('click', (event) => {
      const row = event.target.closest('tr');
      if (!row || wallboard) return;
      openDetail(row.dataset.id, Boolean(event.target.closest('.ov-btn')));
    });
    $('d-close').addEventListener('click', closeDetail);
    $('detail').addEventListener('close', () => {
      detailId = null;
      $('d-state').dataset.user = '';
    });
    $('d-apply').addEventListener('click', askOverride);
    $('c-cancel').addEventListener('click', () => $('confirm').close());
    $('c-ok').addEventListener('click', confirmOverride);
  }

  async function start() {
    wire();
    buildSummary();
    applyView();
    $('clock').textContent = clockText(serverNow());
    scheduleTick();
    const session = await api('GET', '/api/v1/session');
    if (session.ok) startFloor(session.body);
    else showSignIn(session.status === 0 ? 'The server cannot be reached; sign in when it is back.' : '');
  }

  start();
})();
