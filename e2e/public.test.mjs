// The public pages in a real browser (Debian's Chromium, headless), on a
// server started by crates/redress/tests/browser.rs with a test clock.
// Staff steps the console does not offer yet go through the JSON API.
// Every test saves screenshots under $SCREENSHOTS.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { ADMIN_PASSWORD, BASE, SHOTS, api, launch } from "./common.mjs";


let browser;
before(async () => {
  browser = await launch();
});
after(async () => { await browser?.close(); });

// A Chinese browser: the pages answer its Accept-Language.
const PHONE = { locale: "zh-CN", viewport: { width: 375, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
const DESKTOP = { locale: "zh-CN", viewport: { width: 1280, height: 900 } };

async function shot(page, name) {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

let staffCounter = 0;
async function staff() {
  const admin = (await api("POST", "/auth/login", null, { username: "admin", password: ADMIN_PASSWORD })).token;
  const n = ++staffCounter;
  const make = async (username, roles, departments, level) => {
    await api("POST", "/admin/users", admin, {
      username, password: "e2e-password-1", display_name: username, roles, departments, level,
    });
    return (await api("POST", "/auth/login", null, { username, password: "e2e-password-1" })).token;
  };
  return {
    intake: await make(`intake${n}`, ["intake"], [], 1),
    handler: await make(`handler${n}`, ["handler"], ["customer-service"], 1),
    handlerName: `handler${n}`,
    reviewer: await make(`reviewer${n}`, ["reviewer"], ["customer-service"], 3),
    reviewerName: `reviewer${n}`,
    supervisor: await make(`super${n}`, ["supervisor"], [], 5),
  };
}

/** Fills and sends the complaint form; returns the tracking number. */
async function fileComplaint(page, { file } = {}) {
  await page.goto(`${BASE}/complain`);
  await page.getByLabel("姓名").fill("张小花");
  await page.getByLabel("手机号码").fill("13712345678");
  await page.getByLabel("投诉对象类型").selectOption("merchant");
  await page.getByLabel("对象名称").fill("好物小店");
  await page.getByLabel("对象编号").fill("shop-e2e");
  await page.getByLabel("标题").fill("收到的商品破损，商家拒绝退货");
  await page.getByLabel("事情经过").fill("11月20日收到商品，外包装完好但内部破损。<script>alert(1)</script>");
  await page.getByLabel("您的诉求").fill("退货退款");
  if (file) {
    await page.getByLabel("证据文件").setInputFiles({ name: "照片说明.txt", mimeType: "text/plain", buffer: Buffer.from(file) });
  }
  await page.getByRole("button", { name: "提交投诉" }).click();
  await page.waitForSelector("#tracking-no");
  return (await page.textContent("#tracking-no")).trim();
}

test("a complainant files with an attachment on a phone and gets the tracking number", async () => {
  const ctx = await browser.newContext(PHONE);
  const page = await ctx.newPage();
  const dialogs = [];
  page.on("dialog", (d) => { dialogs.push(d.message()); d.dismiss(); });
  await page.goto(`${BASE}/`);
  assert.equal(await page.locator("h1").count(), 1);
  await shot(page, "01-home-phone");
  await page.getByRole("link", { name: "提交投诉" }).first().click();
  await shot(page, "02-complain-form-phone");
  const no = await fileComplaint(page, { file: "破损照片的文字说明" });
  assert.match(no, /^RD\d{6}-[0-9A-Z]{6}$/);
  assert.match(await page.textContent("#access-token"), /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
  await shot(page, "03-complaint-filed-phone");
  // Nothing overflows the phone's width.
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 375, `page is ${width}px wide`);
  // The tracking page opens from the confirmation; the text is shown as text.
  await page.getByRole("link", { name: "查看处理进度" }).click();
  await page.waitForSelector("#status");
  assert.match(await page.textContent("#status"), /已提交/);
  assert.match(await page.textContent("#description"), /<script>alert\(1\)<\/script>/);
  assert.deepEqual(dialogs, [], "no script ran");
  await shot(page, "04-tracking-phone");
  await ctx.close();
});

test("a bad submission keeps the input and shows the errors", async () => {
  const ctx = await browser.newContext(DESKTOP);
  const page = await ctx.newPage();
  await page.goto(`${BASE}/complain`);
  await page.getByLabel("姓名").fill("只填了名字");
  await page.getByLabel("电子邮箱").fill("not-an-email");
  await page.getByLabel("事情经过").fill("写了一半的经过");
  await page.getByRole("button", { name: "提交投诉" }).click();
  await page.waitForSelector(".alert");
  assert.equal(await page.inputValue("#complainant\\.name"), "只填了名字");
  assert.equal(await page.inputValue("#description"), "写了一半的经过");
  assert.ok(await page.isVisible("#subject-error"));
  assert.ok(await page.isVisible("#complainant\\.email-error"));
  // The first field with an error has the focus.
  const focused = await page.evaluate(() => document.activeElement?.getAttribute("aria-invalid"));
  assert.equal(focused, "true");
  await shot(page, "05-complain-errors");
  await ctx.close();
});

test("the language switch shows the pages in English and remembers it", async () => {
  const ctx = await browser.newContext(DESKTOP);
  const page = await ctx.newPage();
  await page.goto(`${BASE}/`);
  await page.getByRole("link", { name: "English" }).click();
  await page.waitForSelector("html[lang=en]");
  assert.match(await page.textContent("h1"), /Complaints/);
  await shot(page, "06-home-english");
  await page.getByRole("link", { name: "File a complaint" }).first().click();
  assert.ok(await page.isVisible("text=Submit the complaint"));
  await page.getByRole("link", { name: "中文" }).click();
  await page.waitForSelector("html[lang=zh-CN]");
  await ctx.close();
});

test("the complainant reads the result and appeals; a reviewer closes the case from the console", async () => {
  const s = await staff();
  const ctx = await browser.newContext(PHONE);
  const page = await ctx.newPage();
  const no = await fileComplaint(page);
  // Staff steps through the API (the console is not built yet).
  const list = await api("GET", "/complaints?limit=200", s.supervisor);
  const id = list.items.find((c) => c.tracking_no === no).id;
  await api("POST", `/complaints/${id}/accept`, s.intake, { category: "refunds-returns" });
  await api("POST", `/complaints/${id}/assign`, s.supervisor, { handler: s.handlerName });
  await api("POST", `/complaints/${id}/messages`, s.handler, { audience: "complainant", body: "已联系商家核实。" });
  await api("POST", `/complaints/${id}/decide`, s.handler, {
    outcome: "not_upheld", basis: ["平台服务协议 5.2"], reply: "商品破损系运输所致，请向快递公司索赔。",
  });
  await page.goto(`${BASE}/track/${no}`);
  assert.match(await page.textContent("#status"), /已作出处理决定/);
  assert.ok(await page.isVisible("text=商品破损系运输所致"));
  assert.ok(await page.isVisible("text=已联系商家核实。"));
  await shot(page, "07-result-phone");
  await page.getByLabel("申请复核（只能申请一次）").fill("快递签收时外包装完好，破损应由商家负责。");
  await page.getByRole("button", { name: "申请复核" }).click();
  await page.waitForSelector("#status");
  assert.match(await page.textContent("#status"), /正在复核/);
  assert.equal(await page.getByRole("button", { name: "申请复核" }).count(), 0, "one appeal only");
  await shot(page, "08-appealed-phone");
  // The reviewer closes the case from the console.
  const desk = await browser.newContext(DESKTOP);
  const console_ = await desk.newPage();
  await console_.goto(`${BASE}/staff/login`);
  await console_.getByLabel("用户名").fill(s.reviewerName);
  await console_.getByLabel("密码").fill("e2e-password-1");
  await console_.getByRole("button", { name: "登录" }).click();
  await console_.waitForURL(`${BASE}/staff`);
  await console_.goto(`${BASE}/staff/cases/${id}`);
  assert.match(await console_.textContent("#status"), /正在复核/);
  await console_.getByLabel("复核结论").selectOption("upheld");
  await console_.getByLabel("依据（每行一条）").fill("平台服务协议 5.2\n快递签收记录");
  await console_.getByLabel("答复内容").fill("维持原处理决定。");
  await console_.locator("#review-confirm").check();
  await console_.getByRole("button", { name: "作出复核决定" }).click();
  await console_.waitForSelector("#status");
  assert.match(await console_.textContent("#status"), /已办结/);
  await console_.screenshot({ path: `${SHOTS}/14-staff-reviewed.png`, fullPage: true });
  await desk.close();
  // The complainant's page shows the review and the outside remedies.
  await page.reload();
  assert.match(await page.textContent("#status"), /已办结/);
  assert.ok(await page.isVisible("text=维持原处理决定。"));
  assert.ok(await page.isVisible("text=12315"));
  await shot(page, "09-reviewed-phone");
  await ctx.close();
});
