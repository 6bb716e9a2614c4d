// The administration sub-pages in a real browser (issue 15 item 6): an
// admin adds a staff account through a refused form (what was typed
// stays, the reasons are beside the fields), then again correctly (the
// page says so after the redirect); every admin page is photographed in
// both languages.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { ADMIN_PASSWORD, BASE, SHOTS, launch } from "./common.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const PAGES = [
  ["overview", ""],
  ["users", "/users"],
  ["user-edit", "/users/admin"],
  ["departments", "/departments"],
  ["department-edit", "/departments/customer-service"],
  ["categories", "/categories"],
  ["category-edit", "/categories/delivery"],
  ["respondents", "/respondents"],
  ["api-keys", "/api-keys"],
  ["calendar", "/calendar"],
  ["canned", "/canned"],
  ["notices", "/notices?kind=result&tl=zh-CN"],
  ["channels", "/channels"],
];

test("an admin works through the administration sub-pages in both languages", async () => {
  const ctx = await browser.newContext({ locale: "zh-CN", viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(`${BASE}/staff/login`);
  await page.getByLabel("用户名").fill("admin");
  await page.getByLabel("密码").fill(ADMIN_PASSWORD);
  await page.getByRole("button", { name: "登录" }).click();
  await page.waitForLoadState();

  await page.goto(`${BASE}/staff/admin/users?lang=zh-CN`);
  const form = page.locator("#user-form");
  await form.getByLabel("用户名").fill("e2e-desk");
  await form.getByLabel("显示名称").fill("E2E Desk");
  await form.getByLabel("密码").fill("short");
  await form.getByRole("button", { name: "添加" }).click();
  await page.waitForSelector("#error");
  assert.equal(await page.inputValue("#u-name"), "e2e-desk");
  assert.equal(await page.inputValue("#u-display"), "E2E Desk");
  assert.ok(await page.isVisible("#u-password-error"));
  assert.ok(await page.isVisible("#u-roles-error"));
  await page.screenshot({ path: `${SHOTS}/50-admin-user-refused-zh.png`, fullPage: true });
  await form.getByLabel("密码").fill("e2e-desk-password-1");
  await page.check("#u-role-intake");
  await form.getByRole("button", { name: "添加" }).click();
  await page.waitForSelector("#notice");
  assert.match(page.url(), /\/staff\/admin\/users\?done=user-added$/);
  assert.match(await page.textContent("#notice"), /工作人员账号已添加/);

  for (const lang of ["zh-CN", "en"]) {
    for (const [name, path] of PAGES) {
      const sep = path.includes("?") ? "&" : "?";
      await page.goto(`${BASE}/staff/admin${path}${sep}lang=${lang}`);
      assert.equal(await page.locator("h1").count(), 1, `${name} ${lang}`);
      await page.screenshot({ path: `${SHOTS}/51-admin-${name}-${lang === "en" ? "en" : "zh"}.png`, fullPage: true });
    }
  }
  await page.goto(`${BASE}/staff/admin?lang=zh-CN`);
  await ctx.close();
});
