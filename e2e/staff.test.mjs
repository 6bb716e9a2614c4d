// The staff console in a real browser: log in, find the new complaint in
// the queue, accept it, write to the respondent (with a canned reply an
// admin saved on the admin page), decide; log out by POST.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { ADMIN_PASSWORD, BASE, SHOTS, api, launch } from "./common.mjs";


let browser;
before(async () => {
  browser = await launch();
});
after(async () => { await browser?.close(); });

test("staff log in, accept, message the respondent and decide", async () => {
  const admin = (await api("POST", "/auth/login", null, { username: "admin", password: ADMIN_PASSWORD })).token;
  await api("POST", "/admin/users", admin, {
    username: "desk1", password: "desk-password-1", display_name: "前台一号",
    roles: ["intake", "handler", "supervisor"], departments: ["customer-service"], level: 2,
  });
  const filed = await api("POST", "/complaints", null, {
    complainant: { name: "赵六", phone: "13600001111" },
    respondent: { kind: "merchant", id: "shop-console", name: "控制台测试店" },
    subject: "控制台流程测试：拒绝退款", description: "商家拒绝退款，订单 C-1。",
  });

  const ctx = await browser.newContext({ locale: "zh-CN", viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(`${BASE}/staff`);
  await page.waitForURL(/\/staff\/login/);
  await page.getByLabel("用户名").fill("desk1");
  await page.getByLabel("密码").fill("wrong-password");
  await page.getByRole("button", { name: "登录" }).click();
  assert.ok(await page.isVisible("text=用户名或密码不正确"));
  await page.getByLabel("密码").fill("desk-password-1");
  await page.getByRole("button", { name: "登录" }).click();
  await page.waitForURL(`${BASE}/staff`);
  await page.screenshot({ path: `${SHOTS}/10-staff-queues.png`, fullPage: true });

  await page.getByRole("link", { name: /待受理/ }).click();
  // The list's filters keep what was asked for.
  await page.getByLabel("被投诉方（类型:编号 或 名称）").fill("控制台测试");
  await page.getByRole("button", { name: "搜索" }).click();
  await page.waitForSelector("#total");
  assert.equal(await page.inputValue("#respondent"), "控制台测试");
  assert.equal(await page.inputValue("#status"), "submitted");
  await page.screenshot({ path: `${SHOTS}/10-staff-case-list.png` });
  await page.getByRole("link", { name: filed.tracking_no }).click();
  await page.waitForSelector("#status");
  assert.match(await page.textContent("#status"), /等待受理/);
  await page.screenshot({ path: `${SHOTS}/11-staff-case.png`, fullPage: true });

  // Only intake's actions are offered, each folded until opened.
  assert.equal(await page.locator("#act-decide").count(), 0);
  await page.locator("#act-accept > summary").click();
  await page.getByLabel("受理并归类").selectOption("refunds-returns");
  await page.getByRole("button", { name: "受理", exact: true }).click();
  await page.waitForSelector("#status");
  assert.match(await page.textContent("#status"), /正在处理/);

  assert.match(await page.textContent("#notice"), /已受理/);
  await page.locator("#act-assign > summary").click();
  await page.getByLabel("指派经办人", { exact: true }).selectOption("desk1");
  await page.getByRole("button", { name: "指派", exact: true }).click();
  await page.waitForSelector("#assignee");
  assert.equal((await page.textContent("#assignee")).trim(), "前台一号");

  // An admin saves a canned reply on the admin page ...
  const adminCtx = await browser.newContext({ locale: "zh-CN", viewport: { width: 1280, height: 900 } });
  const adminPage = await adminCtx.newPage();
  await adminPage.goto(`${BASE}/staff/login`);
  await adminPage.getByLabel("用户名").fill("admin");
  await adminPage.getByLabel("密码").fill(ADMIN_PASSWORD);
  await adminPage.getByRole("button", { name: "登录" }).click();
  await adminPage.waitForURL(`${BASE}/staff/admin`);
  await adminPage.goto(`${BASE}/staff/admin/canned`);
  const newReply = adminPage.locator("#canned-new");
  await newReply.getByLabel("标题").fill("请商家提供物流凭证");
  await newReply.getByLabel("语言").selectOption("zh-CN");
  await newReply.getByLabel("内容").fill("请贵方于两个工作日内提供该订单的发货及物流凭证。");
  await newReply.getByRole("button", { name: "添加" }).click();
  const saved = adminPage.locator("details.canned", { hasText: "请商家提供物流凭证" });
  await saved.waitFor();
  await saved.locator("summary").click();
  await adminPage.evaluate(() => document.getElementById("canned-h").scrollIntoView());
  await adminPage.screenshot({ path: `${SHOTS}/15-admin-canned-replies.png` });
  await adminCtx.close();

  // ... and the agent picks it on the case page: it fills the message box
  // (progressive enhancement) and is sent as it is.
  await page.reload();
  await page.locator("#act-message > summary").click();
  await page.getByLabel("常用回复（消息内容为空时使用）").selectOption({ label: "请商家提供物流凭证" });
  assert.match(await page.inputValue("#staff-message"), /发货及物流凭证/);
  await page.getByLabel("消息对象").selectOption("respondent");
  await page.evaluate(() => document.getElementById("canned").scrollIntoView({ block: "center" }));
  await page.screenshot({ path: `${SHOTS}/16-staff-canned-reply-chosen.png` });
  await page.getByRole("button", { name: "发送" }).click();
  await page.waitForSelector("text=请贵方于两个工作日内提供该订单的发货及物流凭证。");

  await page.locator("#act-message > summary").click();
  await page.getByLabel("常用回复（消息内容为空时使用）").selectOption({ label: "请商家说明情况" });
  assert.match(await page.inputValue("#staff-message"), /两个工作日内就该投诉说明情况/);
  await page.getByLabel("消息对象").selectOption("respondent");
  await page.getByLabel("消息内容", { exact: true }).fill("请于两个工作日内说明拒绝退款的理由。");
  await page.getByRole("button", { name: "发送" }).click();
  await page.waitForSelector("text=请于两个工作日内说明拒绝退款的理由。");

  // A decision without a basis is refused with the field named; nothing changes.
  await page.locator("#act-decide > summary").click();
  await page.getByLabel("答复内容").fill("商家同意全额退款。");
  await page.locator("#decide-confirm").check();
  await page.getByRole("button", { name: "作出处理决定" }).click();
  await page.waitForSelector(".alert");
  assert.match(await page.textContent(".alert"), /处理依据/);
  assert.match(await page.textContent("#status"), /正在处理/);
  // The refused form stays open with what was typed.
  assert.equal(await page.getByLabel("答复内容").inputValue(), "商家同意全额退款。");

  await page.getByLabel("处理结论").selectOption("upheld");
  await page.getByLabel("依据（每行一条）").fill("平台服务协议 5.2\n消费者权益保护法 第二十四条");
  await page.getByLabel("答复内容").fill("商家同意全额退款，三个工作日内到账。");
  await page.locator("#decide-remedy-kind-0").selectOption("refund");
  await page.locator("#decide-remedy-amount-0").fill("199.00");
  await page.screenshot({ path: `${SHOTS}/11-staff-deciding.png`, fullPage: true });
  await page.locator("#decide-confirm").check();
  await page.getByRole("button", { name: "作出处理决定" }).click();
  await page.waitForSelector("#decision");
  assert.match(await page.textContent("#status"), /已作出处理决定/);
  assert.match(await page.textContent("#decision"), /投诉成立/);
  assert.ok(await page.isVisible("text=退款（199.00 CNY）"));
  await page.screenshot({ path: `${SHOTS}/12-staff-decided.png`, fullPage: true });

  // The reports page draws its charts as SVG.
  await page.getByRole("link", { name: "统计报表" }).click();
  await page.waitForSelector("figure.chart svg");
  assert.ok(await page.locator("figure.chart svg rect").count() > 0);
  await page.screenshot({ path: `${SHOTS}/13-staff-reports.png`, fullPage: true });
  // In English too, where the names are longer: no label runs into a bar.
  await page.goto(`${BASE}/staff/reports?lang=en`);
  await page.waitForSelector("figure.chart svg");
  assert.ok(await page.isVisible("text=Decided (appeal window open)"));
  const overlaps = await page.evaluate(() => {
    const hit = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
    const found = [];
    for (const svg of document.querySelectorAll("figure.chart svg")) {
      const rects = [...svg.querySelectorAll("rect")].map((r) => r.getBBox());
      for (const t of svg.querySelectorAll("text")) {
        const box = t.getBBox();
        if (box.x + box.width > 600 || rects.some((r) => hit(box, r))) found.push(t.textContent);
      }
    }
    return found;
  });
  assert.deepEqual(overlaps, []);
  await page.screenshot({ path: `${SHOTS}/13-staff-reports-en.png`, fullPage: true });
  await page.goto(`${BASE}/staff/reports?lang=zh-CN`);

  // Logout is a POST; afterwards the console asks for a login again.
  await page.getByRole("button", { name: /退出/ }).click();
  await page.waitForURL(/\/staff\/login/);
  await page.goto(`${BASE}/staff`);
  await page.waitForURL(/\/staff\/login/);
  await ctx.close();
});
