// Phone intake in a real browser: an agent registers a phoned complaint,
// the page shows the tracking number and the access code once, large and
// in groups for reading aloud, and prints the acknowledgement slip; the
// code read out opens the case.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { ADMIN_PASSWORD, BASE, SHOTS, api, launch } from "./common.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => { await browser?.close(); });

test("an agent registers a phoned complaint and reads out its access code", async () => {
  const admin = (await api("POST", "/auth/login", null, { username: "admin", password: ADMIN_PASSWORD })).token;
  await api("POST", "/admin/users", admin, {
    username: "phone1", password: "phone-password-1", display_name: "热线一号",
    roles: ["intake"], departments: [], level: 1,
  });
  const ctx = await browser.newContext({ locale: "zh-CN", viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(`${BASE}/staff/login`);
  await page.getByLabel("用户名").fill("phone1");
  await page.getByLabel("密码").fill("phone-password-1");
  await page.getByRole("button", { name: "登录" }).click();
  await page.waitForURL(`${BASE}/staff`);

  await page.goto(`${BASE}/staff/intake`);
  await page.selectOption("#channel", "phone");
  await page.fill('[name="call_reference"]', "CALL-2026-1206-0815");
  await page.fill('[name="complainant.name"]', "周九");
  await page.fill('[name="complainant.phone"]', "13700003333");
  await page.selectOption('[name="respondent.kind"]', "merchant");
  await page.fill('[name="respondent.id"]', "shop-hotline");
  await page.fill('[name="subject"]', "电话投诉：商品未送达");
  await page.fill('[name="description"]', "来电称订单 H-7 已付款十天仍未发货。");
  await page.getByRole("button", { name: "提交投诉" }).click();

  await page.waitForSelector("#access-code");
  const no = (await page.textContent("#tracking-no")).trim();
  const groups = await page.locator("#access-code .group").allTextContents();
  assert.equal(groups.length, 3, `three groups: ${groups}`);
  for (const g of groups) assert.match(g, /^[0-9A-HJKMNP-TV-Z]{4}$/);
  const code = groups.join("-");
  // Large enough to read from a distance.
  const size = await page.$eval("#access-code", (el) => parseFloat(getComputedStyle(el).fontSize));
  assert.ok(size >= 28, `the code is shown large (${size}px)`);
  await page.screenshot({ path: `${SHOTS}/30-intake-code.png`, fullPage: true });

  // The code as the caller types it (lower case, no dashes) opens the case.
  const res = await fetch(`${BASE}/api/v1/track/${no}`, {
    headers: { authorization: `Bearer ${code.toLowerCase().replaceAll("-", "")}` },
  });
  assert.equal(res.status, 200);

  // The printable slip: no script, the number and code, how to track.
  await page.getByRole("button", { name: "打印回执" }).click();
  await page.waitForSelector("body.slip");
  assert.equal(await page.locator("script").count(), 0);
  assert.equal((await page.textContent("#tracking-no")).trim(), no);
  assert.equal((await page.textContent("#access-code")).trim(), code);
  assert.match(await page.textContent("#track-url"), /\/track$/);
  assert.ok((await page.locator("#deadlines li").count()) >= 4);
  await page.emulateMedia({ media: "print" });
  await page.screenshot({ path: `${SHOTS}/31-intake-slip.png`, fullPage: true });
  await ctx.close();
});

test("a complainant who lost the code asks for a new one from /track", async () => {
  const filed = await api("POST", "/complaints", null, {
    complainant: { name: "郑十一", email: "zheng11@example.com" },
    respondent: { kind: "merchant", id: "shop-lost", name: "找回测试店" },
    subject: "找回查询码测试", description: "忘记了查询码。",
  });
  const ctx = await browser.newContext({ locale: "zh-CN", viewport: { width: 390, height: 844 } });
  const page = await ctx.newPage();
  await page.goto(`${BASE}/track`);
  await page.getByText("找回查询码").click();
  await page.fill("#recover_no", filed.tracking_no);
  await page.fill("#recover_contact", "Zheng11@Example.com");
  await page.getByRole("button", { name: "发送新的查询码" }).click();
  await page.waitForSelector("#recovered");
  assert.ok(await page.isVisible("#recovered"));
  await page.screenshot({ path: `${SHOTS}/32-recover-code.png`, fullPage: true });
  // No mail relay here: nothing could be sent, so the old code still works.
  const res = await fetch(`${BASE}/api/v1/track/${filed.tracking_no}`, {
    headers: { authorization: `Bearer ${filed.access_token}` },
  });
  assert.equal(res.status, 200);
  await ctx.close();
});
