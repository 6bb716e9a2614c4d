// The calendar feed form on the admin page in a real browser: an admin
// subscribes to a feed served here (in the layout of the public holiday
// feeds: rest days all day, a make-up day as a timed event), fetches it
// now, sees what changed, and unsubscribes. (The server runs with
// REDRESS_WEBHOOK_ALLOW_PRIVATE=1, so a feed on 127.0.0.1 is allowed.)

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { ADMIN_PASSWORD, BASE, SHOTS, launch } from "./common.mjs";

const FEED = [
  "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//e2e//CN",
  "BEGIN:VEVENT", "UID:r1@e2e", "DTSTAMP:20251104T000000Z",
  "DTSTART;VALUE=DATE:20370215", "DTEND;VALUE=DATE:20370218",
  "SUMMARY:春节 假期 共3天", "END:VEVENT",
  "BEGIN:VEVENT", "UID:m1@e2e", "DTSTAMP:20251104T000000Z",
  "DTSTART;TZID=Asia/Shanghai:20370214T090000", "DTEND;TZID=Asia/Shanghai:20370214T180000",
  "SUMMARY:春节 补班 第1天/共1天", "STATUS:TENTATIVE", "END:VEVENT",
  "END:VCALENDAR", "",
].join("\r\n");

let browser;
let server;
let feedUrl;
before(async () => {
  browser = await launch();
  server = createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/calendar; charset=utf-8", etag: "\"e2e-1\"" });
    res.end(FEED);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  feedUrl = `http://127.0.0.1:${server.address().port}/cn.ics`;
});
after(async () => {
  await browser?.close();
  server?.close();
});

test("an admin subscribes to a calendar feed, fetches it and unsubscribes", async () => {
  const ctx = await browser.newContext({ locale: "zh-CN", viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(`${BASE}/staff/login`);
  await page.getByLabel("用户名").fill("admin");
  await page.getByLabel("密码").fill(ADMIN_PASSWORD);
  await page.getByRole("button", { name: "登录" }).click();
  await page.waitForURL(`${BASE}/staff/admin`);
  await page.goto(`${BASE}/staff/admin/calendar`);
  assert.ok(await page.isVisible("#feed-none"));

  await page.getByLabel("订阅地址").fill(feedUrl);
  await page.getByRole("button", { name: "订阅", exact: true }).click();
  await page.waitForSelector("#feed-url");
  assert.match(await page.textContent("#feed-url"), /cn\.ics/);
  assert.match(await page.textContent("#feed-last"), /尚未获取/);

  await page.getByRole("button", { name: "立即获取" }).click();
  await page.waitForSelector("#notice");
  assert.match(await page.textContent("#notice"), /有变化：新增 4 天/);
  assert.match(await page.textContent("#feed-last"), /上次获取/);
  await page.evaluate(() => document.getElementById("feed-h").scrollIntoView());
  await page.screenshot({ path: `${SHOTS}/17-admin-calendar-feed.png` });

  await page.getByRole("button", { name: "取消订阅" }).click();
  await page.waitForSelector("#feed-none");
  await ctx.close();
});
