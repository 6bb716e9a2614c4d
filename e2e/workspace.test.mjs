// The staff console as a workspace, in Chromium: every console page in
// both languages passes axe-core without a serious or critical finding and
// is photographed; a handler takes an unassigned case with the keyboard;
// an agent opens a picture the complainant sent.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import zlib from "node:zlib";
import { ADMIN_PASSWORD, BASE, SHOTS, api, launch } from "./common.mjs";

const require = createRequire(import.meta.url);
const AXE = require.resolve("axe-core/axe.min.js");
const DESKTOP = { locale: "zh-CN", viewport: { width: 1280, height: 900 }, bypassCSP: true };
// A 480×320 PNG (a receipt-like picture: stripes on a light ground), so
// that the case page's thumbnail shows something.
const PNG = (() => {
  const [w, h] = [480, 320];
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(w, 0);
  header.writeUInt32BE(h, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const rows = [];
  for (let y = 0; y < h; y++) {
    const row = Buffer.alloc(1 + w * 3);
    for (let x = 0; x < w; x++) {
      const line = y % 40 < 6 && x > 40 && x < w - 40;
      row.set(line ? [60, 90, 160] : [245, 242, 232], 1 + x * 3);
    }
    rows.push(row);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", zlib.deflateSync(Buffer.concat(rows))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
})();

let browser;
before(async () => {
  browser = await launch();
});
after(async () => { await browser?.close(); });

/** axe's serious and critical findings on the current page. */
async function serious(page) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(async () => await window.axe.run(document));
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
}

async function login(page, username, password) {
  await page.goto(`${BASE}/staff/login`);
  await page.getByLabel("用户名").fill(username);
  await page.getByLabel("密码").fill(password);
  await page.getByRole("button", { name: "登录" }).click();
  await page.waitForURL(/\/staff(\/admin)?$/);
}

test("every console page passes axe in both languages; a handler takes a case; an agent opens a picture", async () => {
  const admin = (await api("POST", "/auth/login", null, { username: "admin", password: ADMIN_PASSWORD })).token;
  const make = async (username, display_name, roles) => {
    await api("POST", "/admin/users", admin, {
      username, password: "ws-password-1", display_name, roles, departments: ["customer-service"], level: 2,
    });
    return (await api("POST", "/auth/login", null, { username, password: "ws-password-1" })).token;
  };
  const lead = await make("ws-lead", "组长王五", ["intake", "handler", "supervisor"]);
  await make("ws-handler", "经办人李四", ["handler"]);

  // A case with a conversation, a note, a picture and an extension.
  const filed = await api("POST", "/complaints", null, {
    complainant: { name: "钱八", phone: "13700002222", email: "qian8@example.com" },
    respondent: { kind: "merchant", id: "shop-ws", name: "工作台测试店" },
    subject: "工作台测试：少发一件", description: "订单 W-1 少发一件外套。", demands: "补发或退款",
  });
  const id = filed.id;
  const form = new FormData();
  form.append("file", new Blob([PNG], { type: "image/png" }), "少发照片.png");
  const up = await fetch(`${BASE}/api/v1/track/${filed.tracking_no}/evidence`, {
    method: "POST", headers: { authorization: `Bearer ${filed.access_token}` }, body: form,
  });
  assert.ok(up.ok, `upload: ${up.status} ${await up.text()}`);
  await api("POST", `/complaints/${id}/accept`, lead, { category: "refunds-returns" });
  await api("POST", `/track/${filed.tracking_no}/messages`, filed.access_token, { body: "请尽快补发，谢谢。" });
  await api("POST", `/complaints/${id}/notes`, lead, { kind: "contact", body: "已电话联系商家。" });
  await api("POST", `/complaints/${id}/extend`, lead, { days: 3, reason: "等待仓库盘点结果" });

  const ctx = await browser.newContext(DESKTOP);
  const page = await ctx.newPage();
  await login(page, "ws-lead", "ws-password-1");
  const problems = {};
  const pages = [
    ["queues", "/staff"], ["cases", "/staff/cases"], ["case", `/staff/cases/${id}`],
    ["actions", "/staff/actions"], ["reports", "/staff/reports"], ["mail", "/staff/mail"],
    ["intake", "/staff/intake"],
  ];
  for (const lang of ["zh-CN", "en"]) {
    for (const [name, path] of pages) {
      await page.goto(`${BASE}${path}${path.includes("?") ? "&" : "?"}lang=${lang}`);
      await page.waitForSelector("h1");
      await page.screenshot({ path: `${SHOTS}/50-console-${name}-${lang}.png`, fullPage: true });
      const found = await serious(page);
      if (found.length) problems[`${path} (${lang})`] = found;
    }
  }
  assert.deepEqual(problems, {}, JSON.stringify(problems, null, 2));

  // The case page reads as words: names, reasons, who wrote to whom.
  await page.goto(`${BASE}/staff/cases/${id}?lang=zh-CN`);
  const activity = await page.textContent("#activity");
  for (const words of ["投诉人来信", "请尽快补发，谢谢。", "等待仓库盘点结果", "组长王五", "已电话联系商家。"]) {
    assert.ok(activity.includes(words), `${words} in ${activity}`);
  }
  assert.ok(!activity.includes("registered") && !activity.includes("complainant:"), activity);

  // The picture shows as its thumbnail, made at upload (320 px wide).
  const thumbWidth = await page.$eval(".thumb img", (img) => {
    img.scrollIntoView();
    return img.decode().then(() => img.naturalWidth);
  });
  assert.equal(thumbWidth, 320);

  // The agent opens the picture: it shows in the browser.
  const [popup] = await Promise.all([
    page.waitForEvent("popup"),
    page.getByRole("link", { name: "少发照片.png" }).click(),
  ]);
  const response = await popup.waitForLoadState().then(() => popup.evaluate(() => document.contentType));
  assert.equal(response, "image/png");
  await popup.close();

  // The folded actions open with the keyboard: a note typed and sent.
  await page.focus("#act-note > summary");
  await page.keyboard.press("Enter");
  await page.getByLabel("记录内容").fill("商家承诺今日补发。");
  await page.getByRole("button", { name: "添加记录" }).press("Enter");
  await page.waitForSelector("#notice");
  assert.match(await page.textContent("#notice"), /办理记录已添加/);
  await ctx.close();

  // Another case, unassigned: its department's handler takes it.
  const second = await api("POST", "/complaints", null, {
    complainant: { name: "孙九", phone: "13700003333" },
    respondent: { kind: "merchant", id: "shop-ws", name: "工作台测试店" },
    subject: "工作台测试：未发货", description: "订单 W-2 一直未发货。",
  });
  await api("POST", `/complaints/${second.id}/accept`, lead, { category: "refunds-returns" });
  const hctx = await browser.newContext(DESKTOP);
  const hpage = await hctx.newPage();
  await login(hpage, "ws-handler", "ws-password-1");
  // The handler's navigation has no reports and no administration.
  assert.equal(await hpage.locator('nav a[href="/staff/reports"]').count(), 0);
  assert.equal(await hpage.locator('nav a[href="/staff/admin"]').count(), 0);
  await hpage.goto(`${BASE}/staff/cases/${second.id}`);
  assert.match(await hpage.textContent("#assignee"), /未指派/);
  await hpage.getByRole("button", { name: "由我办理" }).click();
  await hpage.waitForSelector("#notice");
  assert.match(await hpage.textContent("#assignee"), /经办人李四/);
  await hpage.screenshot({ path: `${SHOTS}/51-handler-took-case.png`, fullPage: true });
  await hctx.close();
});
