// What the browser tests (dashboard.test.mjs, agent.test.mjs) share: the binary and the
// browser they use, tokens, starting and stopping `serve` with this repository's dashboard,
// and calling the API with a token.
//
// PRESENCE_AGENT_BINARY  the binary (default ../../build/presence-agent)
// CHROMIUM               the browser (default /usr/bin/chromium)

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '../..');
export const binary = path.resolve(here, process.env.PRESENCE_AGENT_BINARY || '../../build/presence-agent');
export const browserPath = process.env.CHROMIUM || '/usr/bin/chromium';

export const LIVE_MS = 1000; // a change must show within a second
export const WAIT_MS = 10000; // generous bound for start-up and reconnects

// A new token of `role` (with `extra` arguments, e.g. --user), added to the configuration.
export function addToken(config, role, extra = []) {
  return execFileSync(binary, ['token', '--role', role, ...extra, '--add-to', config], { encoding: 'utf8' }).trim();
}

// Starts `serve` and resolves once it printed "listening on <scheme>://127.0.0.1:PORT".
export async function serve(config, scheme = 'http') {
  const proc = spawn(binary, ['serve', '-c', config, '--dashboard', path.join(repo, 'dashboard')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stderr.on('data', (chunk) => { output += chunk; });
  const line = await new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`serve printed no address in ${WAIT_MS} ms:\n${output}`)), WAIT_MS);
    proc.stdout.on('data', (chunk) => {
      buffered += chunk;
      output += chunk;
      const end = buffered.indexOf('\n');
      if (end >= 0) {
        clearTimeout(timer);
        resolve(buffered.slice(0, end));
      }
    });
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code ?? signal}) before listening:\n${output}`));
    });
  });
  const match = new RegExp(`listening on (${scheme}://127\\.0\\.0\\.1:(\\d+))`).exec(line);
  assert.ok(match, `unexpected first line: ${line}`);
  return { proc, url: match[1], port: Number(match[2]), output: () => output };
}

export async function stopServer(running) {
  if (!running || running.proc.exitCode !== null || running.proc.signalCode !== null) return;
  const exited = once(running.proc, 'exit');
  running.proc.kill('SIGTERM');
  const timer = setTimeout(() => running.proc.kill('SIGKILL'), WAIT_MS);
  await exited;
  clearTimeout(timer);
}

// A request to the server at `url` with a bearer token; the answer's JSON (null if empty).
// Fails the test unless the answer is a success.
export async function callApi(url, method, urlPath, body, token) {
  const response = await fetch(url + urlPath, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  assert.ok(response.ok, `${method} ${urlPath}: ${response.status} ${text}`);
  return json;
}
