// The published channels (公示渠道) in a real browser: an admin fills the
// form on the admin page (a bad mailbox first: the error is shown and what
// was typed stays), saves it, and a visitor on a phone sees the hotline,
// the mailbox and the addresses on the start page. Every channel stays on,
// so the other files that complain on the web form are unaffected.

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

test("an admin publishes the channels and the start page shows them", async () => {
  const ctx = await browser.newContext({ locale: "zh-CN", viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(`${BASE}/staff/login`);
  await page.getByLabel("用户名").fill("admin");
  await page.getByLabel("密码").fill(ADMIN_PASSWORD);
  await page.getByRole("button", { name: "登录" }).click();
  await page.waitForURL(`${BASE}/staff/admin`);
  await page.goto(`${BASE}/staff/admin/channels`);
  assert.ok(await page.isChecked("#enabled-web"));

  await page.getByLabel("投诉热线").fill("12315");
  await page.getByLabel("热线服务时间").fill("工作日 9:00–17:00");
  await page.getByLabel("投诉邮箱").fill("not-an-address");
  await page.getByLabel("来信地址").fill("北京市西城区某某路 1 号 投诉中心");
  await page.getByLabel("来访地址").fill("北京市西城区某某路 1 号 一楼接待室");
  // The browser's own check of type=email is bypassed, as a script-less
  // or older browser would: the server names the field.
  await page.$eval("#channels-form", (f) => { f.noValidate = true; });
  await page.getByRole("button", { name: "保存公示渠道" }).click();
  await page.waitForSelector("#channels-form");
  assert.match(await page.content(), /投诉邮箱/);
  assert.equal(await page.inputValue("#ch-hotline"), "12315");
  assert.equal(await page.inputValue("#ch-mailbox"), "not-an-address");

  await page.getByLabel("投诉邮箱").fill("tousu@example.com");
  await page.$eval("#channels-form", (f) => { f.noValidate = true; });
  await page.getByRole("button", { name: "保存公示渠道" }).click();
  await page.waitForSelector("#notice");
  assert.match(await page.textContent("#notice"), /公示渠道已保存/);
  await page.evaluate(() => document.getElementById("channels-h").scrollIntoView());
  await page.screenshot({ path: `${SHOTS}/40-admin-channels.png` });
  await ctx.close();

  const phone = await browser.newContext({
    locale: "zh-CN", viewport: { width: 375, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
  });
  const home = await phone.newPage();
  await home.goto(`${BASE}/`);
  assert.match(await home.textContent("#channel-phone"), /投诉热线：12315（工作日 9:00–17:00）/);
  assert.match(await home.textContent("#channel-email"), /tousu@example\.com/);
  assert.match(await home.textContent("#channel-in_person"), /一楼接待室/);
  assert.ok(await home.isVisible("#channel-web"));
  await home.evaluate(() => document.getElementById("channels").scrollIntoView());
  await home.screenshot({ path: `${SHOTS}/41-home-channels.png`, fullPage: true });
  await phone.close();
});
