// What every browser test file shares: the server under test, Chromium's
// launch, and a JSON API client for steps done outside the pages.

import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { chromium } from "playwright-core";

export const BASE = process.env.BASE_URL;
export const SHOTS = process.env.SCREENSHOTS;
export const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD;
assert.ok(BASE && SHOTS && ADMIN_PASSWORD, "BASE_URL, SCREENSHOTS and ADMIN_PASSWORD are set");
mkdirSync(SHOTS, { recursive: true });

/** Debian's Chromium, headless, with the flags this closed network needs. */
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
}

/** A JSON API call that must succeed; its answer, parsed. */
export async function api(method, path, token, body) {
  const res = await fetch(`${BASE}/api/v1${path}`, {
    method,
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}
