// The agent's own page (/agent/) in a real browser (Debian's Chromium driven by playwright-core)
// against the real presence-agent binary, next to the supervisor dashboard in a second browser
// context: sign-in with an agent token (and a supervisor token refused), the state and its
// source in words, the picklist by mouse and by keyboard, a change seen on the dashboard within
// a second, calls, wrap-up counting down, a pending next state, a supervisor's override, the
// session limited to its own user, a 320 x 480 side panel, reconnecting after a restart,
// sign-out, and the day's state budgets counting down.
//
//   cd tests/browser && npm ci && node --test agent.test.mjs
//
// PRESENCE_AGENT_BINARY  the binary (default ../../build/presence-agent)
// CHROMIUM               the browser (default /usr/bin/chromium)
// AGENT_SCREENSHOT       the 320 x 480 picture (default ../../build/agent-page-320x480.png)

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import {
  LIVE_MS, WAIT_MS, addToken, binary, browserPath, callApi, here, repo, serve, stopServer,
} from './harness.mjs';

const screenshotPath = path.resolve(here, process.env.AGENT_SCREENSHOT || '../../build/agent-page-320x480.png');
const WRAP_UP_SECONDS = 3; // short, so that a wrap-up runs out during the test
const DND_BUDGET = 3; // seconds of Do Not Disturb a day in this configuration

let tmp;
let configPath;
let server; // {proc, url, port, output()}
let agentToken; // user 1001, Anna Berg
let supervisorToken;
let integrationToken;
let browser;
let agentContext;
let page; // the agent page
let floor; // the supervisor dashboard, in its own context (its own session cookie)
const requestUrls = [];

// ---- the server (harness.mjs) ----------------------------------------------------------------

const newToken = (role, extra = []) => addToken(configPath, role, extra);
const startServer = (config = configPath, scheme = 'http') => serve(config, scheme);
const call = (method, urlPath, body, token = integrationToken) => callApi(server.url, method, urlPath, body, token);

const setState = (id, label) => call('PUT', `/api/v1/agents/${id}/state`, { label });
const postEvent = (id, event) => call('POST', `/api/v1/agents/${id}/events`, event);

// ---- the pages --------------------------------------------------------------------------------

const stateText = () => page.locator('#state-text');
const showsState = (text, timeout = LIVE_MS) =>
  page.locator('#state-text', { hasText: new RegExp(`^${text.replace(/[()]/g, '\\$&')}$`) }).waitFor({ timeout });
const option = (text) => page.locator('#picklist [role="option"]', { hasText: text });

async function signIn(target, token) {
  await target.locator('#token').fill(token);
  await target.locator('#signin-submit').click();
}

async function pick(text) {
  await page.locator('#pick-button').click();
  await option(text).click();
}

// ---- set-up -----------------------------------------------------------------------------------

before(async () => {
  assert.ok(fs.existsSync(binary), `no presence-agent binary at ${binary} (PRESENCE_AGENT_BINARY)`);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'presence-agent-page-'));
  configPath = path.join(tmp, 'config.json');
  const config = JSON.parse(fs.readFileSync(path.join(repo, 'samples', 'dial-command.json'), 'utf8'));
  config.server = { listen: '127.0.0.1:0', data_dir: path.join(tmp, 'data') };
  config.settings.wrap_up_seconds = WRAP_UP_SECONDS;
  config.states.find((s) => s.label === 'Do Not Disturb').budget_seconds_per_day = DND_BUDGET;
  config.tokens = [];
  fs.writeFileSync(configPath, JSON.stringify(config, null, 2));
  agentToken = newToken('agent', ['--user', '1001', '--name', 'anna-softphone']);
  supervisorToken = newToken('supervisor');
  integrationToken = newToken('integration');
  fs.mkdirSync(path.join(tmp, 'data'));

  server = await startServer();
  // Restarts must come back on the same address: pin the port the first start got.
  const pinned = JSON.parse(fs.readFileSync(configPath, 'utf8'));
  pinned.server.listen = `127.0.0.1:${server.port}`;
  fs.writeFileSync(configPath, JSON.stringify(pinned, null, 2));

  // Anna starts the day in Ready, set by the CRM.
  await setState('1001', 'Ready for Calls');

  browser = await chromium.launch({
    executablePath: browserPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  agentContext = await browser.newContext({ viewport: { width: 400, height: 700 }, locale: 'en-GB' });
  page = await agentContext.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.on('request', (request) => requestUrls.push(request.url()));
  const floorContext = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB' });
  floor = await floorContext.newPage();
  floor.setDefaultTimeout(WAIT_MS);
  await page.goto(server.url + '/agent/');
});

after(async () => {
  await browser?.close();
  await stopServer(server);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

// ---- the tests (in order: they share one browser and one server) ----------------------------

test('a wrong token and a supervisor token are refused with a clear message', async () => {
  await page.locator('#signin-form').waitFor({ timeout: WAIT_MS });
  // A real label for the token field.
  assert.equal(await page.getByLabel('Your agent token').count(), 1);
  await signIn(page, 'not-a-real-token');
  const error = page.locator('#signin-error');
  await error.waitFor({ timeout: WAIT_MS });
  assert.match(await error.textContent(), /not accepted/);
  await signIn(page, supervisorToken);
  await page.locator('#signin-error', { hasText: 'for agents' }).waitFor({ timeout: WAIT_MS });
  assert.match(await error.textContent(), /a supervisor token cannot sign in here/);
  assert.equal(await page.locator('#me').isVisible(), false);
  assert.equal((await agentContext.cookies()).length, 0, 'no session was opened for the supervisor');
  assert.equal(await page.locator('#token').inputValue(), '', 'the field is cleared');
});

test('an agent token signs in: the own state in words, the selectable states to pick from', async () => {
  await signIn(page, agentToken);
  await page.locator('#conn[data-state="live"]').waitFor({ timeout: WAIT_MS });
  await showsState('Ready for Calls (Online)', WAIT_MS);
  assert.equal(await page.locator('#me-name').textContent(), 'Anna Berg');
  assert.match(await page.locator('#state-source').textContent(), /^Since \d\d:\d\d, by the CRM$/);
  assert.match(await page.locator('#state-time').textContent(), /^\d+:\d\d$/);
  // The picklist: only selectable states, as "Label (Status)"; the current one marked in words.
  await page.locator('#pick-button').click();
  const texts = await page.locator('#picklist [role="option"]').allTextContents();
  assert.deepEqual(texts.map((t) => t.replace(/✓\s+current$/, '').trim()), [
    'Ready for Calls (Online)', 'Do Not Disturb (DND)', 'Lunch (Away)', 'Break (Away)',
    'In a meeting (Busy)', 'Training (Busy)', 'Back office (Busy)', 'Offline (Offline)', 'Logout (Logout)']);
  assert.equal(await option('Ready for Calls (Online)').getAttribute('aria-selected'), 'true');
  await page.keyboard.press('Escape');
  await page.locator('#picklist').waitFor({ state: 'hidden' });
  // Today so far has Ready, ticking.
  await page.locator('#today-list li', { hasText: 'Ready for Calls (Online)' }).waitFor({ timeout: WAIT_MS });
  // The token is in no URL and no server output; the cookie is HttpOnly.
  for (const url of requestUrls) assert.ok(!url.includes(agentToken), `token in ${url}`);
  assert.ok(!server.output().includes(agentToken), 'token in the server output');
  const session = (await agentContext.cookies()).find((c) => c.name === 'pa_session');
  assert.ok(session && session.httpOnly, 'an HttpOnly session cookie');
});

test('a change made on the page shows on the supervisor dashboard within a second', async () => {
  await floor.goto(server.url + '/');
  await signIn(floor, supervisorToken);
  await floor.locator('#conn[data-state="live"]').waitFor({ timeout: WAIT_MS });
  const chip = (label) => floor.locator('#rows tr[data-id="1001"] .chip', { hasText: new RegExp(`^${label}$`) });
  await chip('Ready for Calls').waitFor({ timeout: WAIT_MS });

  await page.locator('#pick-button').click();
  const started = Date.now();
  await option('Lunch (Away)').click();
  await chip('Lunch').waitFor({ timeout: LIVE_MS });
  const shown = Date.now() - started;
  assert.ok(shown <= LIVE_MS + 50, `shown on the dashboard after ${shown} ms`);
  assert.equal(await floor.locator('#rows tr[data-id="1001"] .c-source').textContent(), 'Agent');
  await showsState('Lunch (Away)');
  assert.match(await page.locator('#state-source').textContent(), /, by you$/);
  assert.equal((await call('GET', '/api/v1/agents/1001')).source, 'agent');
});

test('keyboard only: Tab reaches the picklist, arrows and Enter choose, the live region says it', async () => {
  await page.locator('#announce', { hasText: 'Lunch (Away)' }).waitFor({ timeout: LIVE_MS });
  // From the top of the page (reloaded, still signed in), with the keyboard alone.
  await page.reload();
  await page.locator('#conn[data-state="live"]').waitFor({ timeout: WAIT_MS });
  await showsState('Lunch (Away)', WAIT_MS);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'pick-button', 'the first stop');
  const outline = await page.locator('#pick-button').evaluate((node) => getComputedStyle(node).outlineStyle);
  assert.notEqual(outline, 'none', 'focus is visible');
  await page.keyboard.press('Enter');
  await page.locator('#picklist').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#pick-button').getAttribute('aria-expanded'), 'true');
  // Focus starts on the current state (Lunch); Escape closes and changes nothing.
  assert.equal(await page.evaluate(() => document.activeElement.dataset.label), 'Lunch');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Escape');
  await page.locator('#picklist').waitFor({ state: 'hidden' });
  assert.equal(await page.evaluate(() => document.activeElement.id), 'pick-button');
  assert.equal((await call('GET', '/api/v1/agents/1001')).state.label, 'Lunch');

  await page.keyboard.press('Enter');
  await page.keyboard.press('ArrowDown'); // Lunch -> Break
  assert.equal(await page.evaluate(() => document.activeElement.dataset.label), 'Break');
  await page.keyboard.press('Enter');
  await showsState('Break (Away)');
  await page.locator('#announce', { hasText: 'Your state is Break (Away), by you.' }).waitFor({ timeout: LIVE_MS });
  assert.equal(await page.evaluate(() => document.activeElement.id), 'pick-button', 'focus returns to the button');
  // Home, End and Space work too.
  await page.keyboard.press('Enter');
  await page.keyboard.press('Home');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.label), 'Ready for Calls');
  await page.keyboard.press(' ');
  await showsState('Ready for Calls (Online)');
  await page.locator('#announce', { hasText: 'Ready for Calls (Online)' }).waitFor({ timeout: LIVE_MS });
});

test('a call shows with its timer; a wrap-up counts down and returns to Ready', async () => {
  await postEvent('1001', { type: 'call_answered', call_id: 'c1', direction: 'inbound' });
  await showsState('On a call (On a call)');
  await page.locator('#call', { hasText: /^Inbound call · 0:0\d$/ }).waitFor({ timeout: LIVE_MS });
  assert.match(await page.locator('#state-source').textContent(), /, by your call$/);
  await postEvent('1001', { type: 'call_ended', call_id: 'c1', duration_s: 95 });
  await showsState('Wrap-up (DND)');
  assert.match(await page.locator('#state-source').textContent(), /, after your call$/);
  assert.equal(await page.locator('#call').isVisible(), false, 'the call is over');
  const wrap = page.locator('#wrap');
  await wrap.waitFor({ state: 'visible', timeout: LIVE_MS });
  const first = await wrap.textContent();
  assert.match(first, /^Wrap-up: 0:0[1-3] left$/);
  // It counts down by the second, then the server's timer brings Ready back.
  await page.waitForFunction((old) => {
    const text = document.getElementById('wrap').textContent;
    return text !== old && /^Wrap-up: 0:0[0-2] left$/.test(text);
  }, first, { timeout: 2000 });
  await showsState('Ready for Calls (Online)', (WRAP_UP_SECONDS + 2) * 1000);
  assert.equal(await wrap.isVisible(), false);
  assert.match(await page.locator('#state-source').textContent(), /, after your call$/);
});

test('a state chosen during a call is shown as next, and follows the wrap-up', async () => {
  await postEvent('1001', { type: 'call_answered', call_id: 'c2', direction: 'outbound' });
  await page.locator('#call', { hasText: /^Outbound call/ }).waitFor({ timeout: LIVE_MS });
  await page.locator('#pick-hint', { hasText: 'follows the call' }).waitFor({ timeout: LIVE_MS });
  await pick('Lunch (Away)');
  await page.locator('#pending', { hasText: 'Next, after your call: Lunch (Away), chosen by you' }).waitFor({ timeout: LIVE_MS });
  await page.locator('#announce', { hasText: 'Lunch (Away) is your next state.' }).waitFor({ timeout: LIVE_MS });
  assert.equal(await stateText().textContent(), 'On a call (On a call)');
  await postEvent('1001', { type: 'call_ended', call_id: 'c2', duration_s: 40 });
  await showsState('Wrap-up (DND)');
  await page.locator('#pending', { hasText: 'Next, after your wrap-up: Lunch (Away)' }).waitFor({ timeout: LIVE_MS });
  await showsState('Lunch (Away)', (WRAP_UP_SECONDS + 2) * 1000);
  assert.equal(await page.locator('#pending').isVisible(), false);
});

test('a refused change shows the API message', async () => {
  await page.locator('#pick-button').click();
  // A state the catalog lacks, as a catalog reloaded meanwhile would leave in the list.
  await page.locator('#picklist').evaluate((list) => {
    const item = list.firstElementChild.cloneNode(true);
    item.dataset.label = 'Lnch';
    item.id = 'choice-gone';
    item.lastChild.textContent = 'Lnch (Away)';
    list.appendChild(item);
  });
  await option('Lnch (Away)').click();
  await page.locator('#pick-error', { hasText: "no state labelled 'Lnch'" }).waitFor({ timeout: LIVE_MS });
  assert.equal((await call('GET', '/api/v1/agents/1001')).state.label, 'Lunch');
});

test('a supervisor override shows as "set by your supervisor"', async () => {
  await call('POST', '/api/v1/agents/1001/override', { label: 'Training' }, supervisorToken);
  await showsState('Training (Busy)');
  assert.match(await page.locator('#state-source').textContent(), /, set by your supervisor$/);
  await page.locator('#announce', { hasText: 'Your state is Training (Busy), set by your supervisor.' })
    .waitFor({ timeout: LIVE_MS });
});

test('the page session sees and changes its own user only', async () => {
  const answers = await page.evaluate(async () => {
    const status = async (method, url, body) => (await fetch(url, {
      method,
      headers: body ? { 'Content-Type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    })).status;
    return {
      other: await status('GET', '/api/v1/agents/1002'),
      otherPut: await status('PUT', '/api/v1/agents/1002/state', { label: 'Lunch' }),
      everyone: await status('GET', '/api/v1/agents'),
      override: await status('POST', '/api/v1/agents/1002/override', { label: 'Lunch' }),
      own: await status('GET', '/api/v1/agents/1001'),
    };
  });
  assert.deepEqual(answers, { other: 403, otherPut: 403, everyone: 403, override: 403, own: 200 });
  assert.equal((await call('GET', '/api/v1/agents/1002')).state, null, '1002 unchanged');

  // The stream of this session: another user's change (made first) never arrives, the own does.
  await page.evaluate(() => {
    window.seen = [];
    window.probe = new EventSource('/api/v1/stream');
    for (const type of ['snapshot', 'agent']) {
      window.probe.addEventListener(type, (event) => window.seen.push(JSON.parse(event.data)));
    }
  });
  await page.waitForFunction(() => window.seen.length > 0);
  await setState('1002', 'Break');
  await setState('1001', 'Back office');
  await page.waitForFunction(() => window.seen.some((m) => m.agent && m.agent.state.label === 'Back office'));
  const seen = await page.evaluate(() => {
    window.probe.close();
    return window.seen;
  });
  assert.deepEqual(seen[0].agents.map((a) => a.id), ['1001']);
  for (const message of seen.slice(1)) assert.equal(message.agent.id, '1001');
  await showsState('Back office (Busy)');
});

test('the side panel at 320 x 480 scrolls only vertically', async () => {
  await page.setViewportSize({ width: 320, height: 480 });
  await postEvent('1001', { type: 'call_answered', call_id: 'c3', direction: 'inbound' });
  await page.locator('#call').waitFor({ state: 'visible', timeout: LIVE_MS });
  await pick('In a meeting (Busy)'); // pending: the longest lines the page shows
  await page.locator('#pending').waitFor({ state: 'visible', timeout: LIVE_MS });
  await page.locator('#pick-button').click();
  await page.locator('#picklist').waitFor({ state: 'visible' });
  const widths = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
    body: document.body.scrollWidth,
  }));
  assert.ok(widths.scroll <= widths.client && widths.body <= 320, JSON.stringify(widths));
  // Every control fits the panel.
  for (const selector of ['#pick-button', '#picklist', '#sign-out', '.today']) {
    const box = await page.locator(selector).boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 320, `${selector} at ${JSON.stringify(box)}`);
  }
  fs.mkdirSync(path.dirname(screenshotPath), { recursive: true });
  await page.screenshot({ path: screenshotPath });
  await page.keyboard.press('Escape');
  await postEvent('1001', { type: 'call_ended', call_id: 'c3', duration_s: 0 });
  await showsState('In a meeting (Busy)', (WRAP_UP_SECONDS + 2) * 1000);
  await page.setViewportSize({ width: 400, height: 700 });
});

test('today counts the current state, and a budget counts down and is marked when over', async () => {
  await pick('Do Not Disturb (DND)');
  await showsState('Do Not Disturb (DND)');
  // Today's Do Not Disturb grows by the second, marked as the state now.
  const dnd = page.locator('#today-list li[data-label="Do Not Disturb"] .time');
  await dnd.waitFor({ timeout: LIVE_MS });
  const before = await dnd.textContent();
  await page.waitForFunction((old) =>
    document.querySelector('#today-list li[data-label="Do Not Disturb"] .time').textContent !== old, before,
  { timeout: 3000 });
  assert.equal(await page.locator('#today-list li.now[data-label="Do Not Disturb"]').count(), 1);
  // Do Not Disturb has 3 s a day in this configuration, unused until now.
  const budget = page.locator('#budget-list li[data-label="Do Not Disturb"]');
  await budget.waitFor({ timeout: LIVE_MS });
  const text = () => budget.locator('.budget-text').textContent();
  const first = await text();
  assert.match(first, /^Do Not Disturb \(DND\): 0:0[0-3] left of 3 s$/);
  await page.waitForFunction((old) =>
    document.querySelector('#budget-list li[data-label="Do Not Disturb"] .budget-text').textContent !== old, first,
  { timeout: 2000 });
  await page.locator('#budget-list li.over[data-label="Do Not Disturb"]').waitFor({ timeout: (DND_BUDGET + 2) * 1000 });
  assert.match(await text(), /^Do Not Disturb \(DND\): over by 0:0\d \(3 s a day\)$/);
  // The server agrees: over, with a negative left.
  const budgetsNow = (await call('GET', '/api/v1/agents/1001')).budgets.states.find((b) => b.label === 'Do Not Disturb');
  assert.equal(budgetsNow.over, true);
  assert.ok(budgetsNow.left_seconds < 0);
});

test('after a server restart the page reconnects by itself', async () => {
  await stopServer(server);
  await page.locator('#conn[data-state="reconnecting"]').waitFor({ timeout: WAIT_MS });
  await page.locator('#banner', { hasText: 'Reconnecting' }).waitFor({ state: 'visible', timeout: LIVE_MS });
  server = await startServer();
  await page.locator('#conn[data-state="live"], #signin-form').first().waitFor({ timeout: WAIT_MS });
  assert.equal(await page.locator('#signin-form').isVisible(), false, 'still signed in after the restart');
  assert.equal(await page.locator('#banner').isVisible(), false);
  await showsState('Do Not Disturb (DND)');
  const started = Date.now();
  await setState('1001', 'Ready for Calls');
  await showsState('Ready for Calls (Online)', Math.max(1, LIVE_MS - (Date.now() - started)));
  assert.match(await page.locator('#state-source').textContent(), /, by the CRM$/);
});

test('an agent who opens the supervisor dashboard keeps the session and is pointed to the own page', async () => {
  const dashboard = await agentContext.newPage();
  await dashboard.goto(`${server.url}/`);
  const error = dashboard.locator('#signin-error');
  await error.waitFor({ state: 'visible', timeout: WAIT_MS });
  assert.match(await error.textContent(), /signed in as an agent/);
  assert.equal(await dashboard.locator('#signin-error a').getAttribute('href'), '/agent/');
  const status = await page.evaluate(async () => (await fetch('/api/v1/session')).status);
  assert.equal(status, 200, 'the agent page is still signed in');
  await dashboard.close();
});

test('signing out ends the session', async () => {
  await page.locator('#sign-out').click();
  await page.locator('#signin-form').waitFor({ timeout: WAIT_MS });
  assert.match(await page.locator('#signin-note').textContent(), /signed out/);
  const status = await page.evaluate(async () => (await fetch('/api/v1/session')).status);
  assert.equal(status, 401);
  await page.reload();
  await page.locator('#signin-form').waitFor({ timeout: WAIT_MS });
});

test('framed by a site in server.frame_ancestors over TLS, the page signs in and goes live', async () => {
  // The agent over HTTPS (a certificate made now) at 127.0.0.1; the framing site, another
  // site, at http://localhost (a softphone panel such as Salesforce's).
  const certificate = path.join(tmp, 'cert.pem');
  const key = path.join(tmp, 'key.pem');
  execFileSync('/usr/bin/openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key,
    '-out', certificate, '-days', '2', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
  const panel = http.createServer((request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end(`<!doctype html><title>CRM</title><iframe src="${panel.agentUrl}/agent/" width="320" height="480"></iframe>`);
  });
  panel.listen(0, '127.0.0.1');
  await once(panel, 'listening');
  const panelOrigin = `http://localhost:${panel.address().port}`;

  const config = JSON.parse(fs.readFileSync(configPath, 'utf8'));
  config.server = { listen: '127.0.0.1:0', data_dir: path.join(tmp, 'data-tls'),
    tls: { certificate, private_key: key }, frame_ancestors: [panelOrigin] };
  const framedConfig = path.join(tmp, 'framed.json');
  fs.writeFileSync(framedConfig, JSON.stringify(config, null, 2));
  const framed = await startServer(framedConfig, 'https');
  panel.agentUrl = framed.url;
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 800, height: 600 } });
  try {
    const top = await context.newPage();
    top.setDefaultTimeout(WAIT_MS);
    await top.goto(`${panelOrigin}/`);
    const frame = top.frameLocator('iframe');
    await frame.locator('#token').fill(agentToken);
    await frame.locator('#signin-submit').click();
    await frame.locator('#conn[data-state="live"]').waitFor({ timeout: WAIT_MS });
    const cookie = (await context.cookies(framed.url)).find((c) => c.name === 'pa_session');
    assert.ok(cookie, 'the framed page has its session cookie');
    assert.equal(cookie.sameSite, 'None');
    assert.ok(cookie.secure && cookie.httpOnly);
    // A change made in the frame is stored and shows there.
    await frame.locator('#pick-button').click();
    await frame.locator('#picklist [role="option"]', { hasText: 'Training (Busy)' }).click();
    await frame.locator('#state-text', { hasText: /^Training \(Busy\)$/ }).waitFor({ timeout: LIVE_MS });
    assert.match(await frame.locator('#state-source').textContent(), /, by you$/);
  } finally {
    await context.close();
    await stopServer(framed);
    await new Promise((resolve) => panel.close(resolve));
  }
});
