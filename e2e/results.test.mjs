// A reviewer changes a result from the case page and the complainant sees
// the new outcome and what was ordered; a file over the limit is refused
// in the browser before anything is sent, and the form keeps what was
// typed. Screenshots under $SCREENSHOTS.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { ADMIN_PASSWORD, BASE, SHOTS, api, launch } from "./common.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => { await browser?.close(); });

const DESKTOP = { locale: "zh-CN", viewport: { width: 1280, height: 900 } };
const PHONE = { locale: "zh-CN", viewport: { width: 375, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

async function people() {
  const admin = (await api("POST", "/auth/login", null, { username: "admin", password: ADMIN_PASSWORD })).token;
  const make = async (username, roles, departments, level) => {
    await api("POST", "/admin/users", admin, {
      username, password: "e2e-password-1", display_name: username, roles, departments, level,
    });
    return (await api("POST", "/auth/login", null, { username, password: "e2e-password-1" })).token;
  };
  return {
    intake: await make("intake-results", ["intake"], [], 1),
    handler: await make("handler-results", ["handler"], ["customer-service"], 1),
    reviewer: await make("reviewer-results", ["reviewer"], ["customer-service"], 3),
  };
}

test("a reviewer modifies the result and the complainant sees what was ordered", async () => {
  const s = await people();
  const filed = await api("POST", "/complaints", null, {
    complainant: { name: "赵六", email: "zhao@example.com" },
    respondent: { kind: "merchant", id: "shop-review", name: "慢发货小店" },
    subject: "付款后十天未发货",
    description: "11月1日付款，商家一直不发货，也不同意退款。",
    demands: "退款并赔偿",
  });
  const id = filed.id;
  await api("POST", `/complaints/${id}/accept`, s.intake, { category: "refunds-returns" });
  await api("POST", `/complaints/${id}/decide`, s.handler, {
    outcome: "not_upheld", basis: ["平台服务协议 5.2"], reply: "商家称已发货。",
  });
  await api("POST", `/track/${filed.tracking_no}/appeal`, filed.access_token, { reason: "物流单号是假的，从未揽收。" });

  const desk = await browser.newContext(DESKTOP);
  const page = await desk.newPage();
  await page.goto(`${BASE}/staff/login`);
  await page.getByLabel("用户名").fill("reviewer-results");
  await page.getByLabel("密码").fill("e2e-password-1");
  await page.getByRole("button", { name: "登录" }).click();
  await page.waitForURL(`${BASE}/staff`);
  await page.goto(`${BASE}/staff/cases/${id}`);
  // The appeal's reason and the original decision are on the page.
  assert.ok(await page.isVisible("text=物流单号是假的，从未揽收。"));
  assert.ok(await page.isVisible("text=商家称已发货。"));
  await page.getByLabel("复核结论").selectOption("modified");
  await page.getByLabel("依据（每行一条）").fill("平台服务协议 5.2\n物流轨迹查询记录");
  await page.getByLabel("答复内容").fill("经复核，商家未实际发货，改为投诉成立。");
  await page.getByLabel("新的处理结论").selectOption("upheld");
  await page.locator("#review-remedy-kind-0").selectOption("refund");
  await page.locator("#review-remedy-amount-0").fill("120");
  await page.locator("#review-sanction-kind-0").selectOption("warning");
  await page.locator("#review-confirm").check();
  await page.screenshot({ path: `${SHOTS}/20-reviewer-modifies.png`, fullPage: true });
  await page.getByRole("button", { name: "作出复核决定" }).click();
  await page.waitForSelector("#status");
  assert.match(await page.textContent("#status"), /已办结/);
  assert.ok(await page.isVisible("text=复核决定已作出。"), "the page confirms the review");
  await page.screenshot({ path: `${SHOTS}/21-reviewer-modified.png`, fullPage: true });
  await desk.close();

  const review = (await api("GET", `/complaints/${id}`, s.reviewer)).review;
  assert.equal(review.result, "modified");
  assert.equal(review.outcome, "upheld");

  // The complainant's page: the changed outcome and the remedy.
  const phone = await browser.newContext(PHONE);
  const track = await phone.newPage();
  await track.goto(`${BASE}/track?no=${filed.tracking_no}`);
  await track.locator("#access_token").fill(filed.access_token);
  await track.locator('form[action="/track"] button[type=submit]').click();
  await track.waitForSelector("#status");
  const reviewText = await track.textContent("#review-h + p");
  assert.match(reviewText, /变更原处理决定/);
  assert.match(reviewText, /投诉成立/);
  assert.match(await track.textContent("#review-remedies"), /refund/);
  assert.ok(await track.isVisible("text=物流单号是假的，从未揽收。"), "the appeal is shown back");
  await track.screenshot({ path: `${SHOTS}/22-complainant-modified-result.png`, fullPage: true });
  await phone.close();
});

test("a file over the limit is refused before sending and the form keeps its text", async () => {
  const ctx = await browser.newContext(PHONE);
  const page = await ctx.newPage();
  await page.goto(`${BASE}/complain`);
  const max = Number(await page.getAttribute("#file", "data-max"));
  assert.ok(max > 0, "the page states the limit");
  await page.getByLabel("姓名").fill("孙七");
  await page.getByLabel("手机号码").fill("13611112222");
  await page.getByLabel("投诉对象类型").selectOption("merchant");
  await page.getByLabel("对象编号").fill("shop-big");
  await page.getByLabel("标题").fill("视频证据太大");
  await page.getByLabel("事情经过").fill("商家发错货，我录了开箱视频。");
  await page.getByLabel("证据文件").setInputFiles({
    name: "开箱视频.txt", mimeType: "text/plain", buffer: Buffer.alloc(max + 1, 97),
  });
  const error = page.locator("#file-size-error");
  await error.waitFor({ state: "visible" });
  assert.match(await error.textContent(), /文件太大/);
  await page.getByRole("button", { name: "提交投诉" }).click();
  // Nothing was sent: still the form, with what was typed.
  assert.equal(new URL(page.url()).pathname, "/complain");
  assert.equal(await page.getByLabel("事情经过").inputValue(), "商家发错货，我录了开箱视频。");
  assert.equal(await page.getByLabel("标题").inputValue(), "视频证据太大");
  await page.screenshot({ path: `${SHOTS}/23-file-too-large.png`, fullPage: true });
  // A smaller file clears the error and the complaint files.
  await page.getByLabel("证据文件").setInputFiles({
    name: "照片.txt", mimeType: "text/plain", buffer: Buffer.from("开箱照片说明"),
  });
  assert.equal(await error.isVisible(), false);
  await page.getByRole("button", { name: "提交投诉" }).click();
  await page.waitForSelector("#tracking-no");
  await ctx.close();
});
