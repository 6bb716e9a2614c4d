// Accessibility of the pages, checked with axe-core in Chromium: no
// finding of any impact (labels, contrast, landmarks, names) on the public
// pages, the tracking look-up, the portal and the staff console.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { ADMIN_PASSWORD, BASE, api, launch } from "./common.mjs";

const require = createRequire(import.meta.url);
const AXE = require.resolve("axe-core/axe.min.js");

let browser;
before(async () => {
  browser = await launch();
});
after(async () => { await browser?.close(); });

/** Every axe finding on the current page, whatever its impact. */
async function findings(page) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(async () => await window.axe.run(document));
  return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
}

test("public pages and the console have no accessibility findings", async () => {
  // axe is injected as a script; the pages' CSP would (rightly) refuse it.
  const ctx = await browser.newContext({ locale: "zh-CN", bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  const problems = {};
  for (const path of ["/?lang=en", "/complain", "/?lang=zh-CN", "/complain", "/track", "/staff/login", "/respondent"]) {
    await page.goto(`${BASE}${path}`);
    const found = await findings(page);
    if (found.length) problems[path] = found;
  }
  // A form with errors, and the console's pages.
  await page.goto(`${BASE}/complain`);
  await page.getByRole("button", { name: "提交投诉" }).click();
  await page.waitForSelector(".alert");
  const errs = await findings(page);
  if (errs.length) problems["/complain (errors)"] = errs;
  await page.goto(`${BASE}/staff/login`);
  await page.getByLabel("用户名").fill("admin");
  await page.getByLabel("密码").fill(ADMIN_PASSWORD);
  await page.getByRole("button", { name: "登录" }).click();
  // Admins read no cases: they start on administration.
  await page.waitForURL(`${BASE}/staff/admin`);
  const adminPages = ["users", "users/admin", "departments", "departments/customer-service", "categories",
    "categories/delivery", "respondents", "api-keys", "calendar", "canned", "notices", "notices?kind=result&tl=zh-CN", "channels"]
    .map((p) => `/staff/admin/${p}`);
  for (const path of ["/staff", "/staff/cases", "/staff/admin", ...adminPages, "/staff/intake"]) {
    await page.goto(`${BASE}${path}`);
    const found = await findings(page);
    if (found.length) problems[path] = found;
  }
  // The webhook pages are a supervisor's: a subscription made on the page
  // (to a port where nothing listens), its secret shown once, its call
  // log; then it is deactivated again.
  const admin = (await api("POST", "/auth/login", null, { username: "admin", password: ADMIN_PASSWORD })).token;
  await api("POST", "/admin/users", admin, {
    username: "a11y-sup", password: "a11y-password-1", display_name: "监督员",
    roles: ["supervisor"], departments: [], level: 9,
  });
  await page.goto(`${BASE}/staff/login`);
  await page.getByLabel("用户名").fill("a11y-sup");
  await page.getByLabel("密码").fill("a11y-password-1");
  await page.getByRole("button", { name: "登录" }).click();
  await page.waitForURL(`${BASE}/staff`);
  const home = await findings(page);
  if (home.length) problems["/staff (supervisor)"] = home;
  await page.goto(`${BASE}/staff/admin/webhooks`);
  await page.getByLabel("地址").fill("http://127.0.0.1:9/hooks");
  await page.getByLabel("事件类型").fill("registered");
  await page.getByRole("button", { name: "订阅", exact: true }).click();
  await page.waitForSelector("#new-secret");
  const hooks = await findings(page);
  if (hooks.length) problems["/staff/admin/webhooks"] = hooks;
  await page.getByRole("link", { name: "推送记录" }).first().click();
  await page.waitForSelector("h1");
  const log = await findings(page);
  if (log.length) problems["/staff/admin/webhooks/{id}"] = log;
  await page.goto(`${BASE}/staff/admin/webhooks`);
  await page.getByRole("button", { name: "停用" }).first().click();
  await page.waitForSelector("#notice");
  assert.deepEqual(problems, {}, JSON.stringify(problems, null, 2));
  await ctx.close();
});
