// ferry's web UI in a real browser: Debian's chromium, headless, driven by playwright-core.
// tests/browser/run.sh makes the fixture (daemon, repository with ferry's hook, pipelines
// shop / broken / gated, a site, a function, tokens) and passes it in the environment:
// URL, OPERATOR (read,start,approve), READER (read), CLONE (a clone of the hooked
// repository), SHOTS (where screenshots go), W (the fixture's directory: daemon.pid,
// serve.log), FERRY and FERRY_DATA (the daemon's binary and data directory). Each check prints "ok   browser NAME" or
// "FAIL browser NAME" with its reason; pages are never reloaded where liveness is tested.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { chromium } from "playwright-core";

const URL = process.env.URL.replace(/\/$/, "");
const SHOTS = process.env.SHOTS;
const CLONE = process.env.CLONE;
const WAIT = 20000; // ms: the longest any one thing may take to show up

const open = new Set(); // the pages of open contexts
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});

// newPage(token, options) — a fresh browser context logged in with `token`; dialogs
// (alert, confirm) are recorded in page.dialogs and dismissed; uncaught script errors
// in page.errors
async function newPage(token, options = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const page = await ctx.newPage();
  page.setDefaultTimeout(WAIT);
  page.dialogs = [];
  page.errors = [];
  page.on("dialog", (d) => { page.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  page.on("pageerror", (e) => page.errors.push(e.message));
  // what the page asked for, for a failing check's report
  page.trail = [];
  page.on("response", (r) => {
    if (!r.url().includes("/assets/")) page.trail.push(`${r.request().method()} ${r.url().replace(URL, "")} ${r.status()}`);
  });
  page.on("console", (m) => { if (m.type() === "error") page.trail.push("console: " + m.text()); });
  open.add(page);
  ctx.on("close", () => open.delete(page));
  if (token) {
    // one login per token: later contexts start with its session cookie
    if (!sessions[token]) {
      await login(page, token, "/");
      sessions[token] = await ctx.storageState();
    } else {
      await ctx.addCookies(sessions[token].cookies);
    }
  }
  return page;
}
const sessions = {};

async function login(page, token, path) {
  await page.goto(URL + path);
  await page.locator("#token").fill(token);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith("/login")),
    page.locator("#token").press("Enter"),
  ]);
}

async function shot(page, name) {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

// pushStarted(message) — commits a change with `message`, pushes it to the hooked
// repository and answers the executions it started, by pipeline (from the hook's
// "remote: ferry: pipeline NAME: started execution ID" lines)
function pushStarted(message) {
  execFileSync("sh", ["-c", 'date +%s%N >>shop.txt && git commit -qam "$1"', "sh", message], { cwd: CLONE });
  const r = require_spawn("git", ["push", "origin", "main"]);
  const ids = {};
  for (const m of r.matchAll(/pipeline (\S+): started execution ([0-9a-f-]+)/g)) ids[m[1]] = m[2];
  return ids;
}
function require_spawn(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: CLONE, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout + r.stderr;
}

let passed = 0, failed = 0;
const ONLY = process.env.ONLY ? new RegExp(process.env.ONLY) : null; // to run some checks alone
async function check(name, fn) {
  if (ONLY && !ONLY.test(name)) return;
  const t0 = Date.now();
  try {
    await fn();
    console.log(`ok   browser ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    passed++;
  } catch (e) {
    console.log(`FAIL browser ${name}`);
    console.log(String(e && e.stack ? e.stack : e).split("\n").slice(0, 12).map((l) => "    " + l).join("\n"));
    let i = 0;
    for (const p of open) {
      const file = `${SHOTS}/FAIL-${name}-${i++}.png`;
      await p.screenshot({ path: file, fullPage: true }).catch(() => {});
      console.log(`    --- page ${p.url().replace(URL, "")} (${file}), its last requests:`);
      for (const l of p.trail.slice(-8)) console.log("    | " + l);
    }
    failed++;
  }
}
function assert(cond, msg) { if (!cond) throw new Error(msg); }

// ---------------------------------------------------------------------------------

const op = await newPage(null);
const XSS = '<script>alert("xss")</script><img src=x onerror=alert(2)> pushed live';
let pushed = null; // the execution the push started

await check("login-with-token-returns-to-the-page-asked-for", async () => {
  const r = await op.goto(URL + "/pipelines/shop");
  assert(new globalThis.URL(op.url()).pathname === "/login", "no redirect to /login: " + op.url());
  assert(r.status() === 200, "login page answered " + r.status());
  await shot(op, "login");
  await op.locator("#token").fill("ferry_not_a_token");
  await op.locator("#token").press("Enter");
  await op.locator(".error").first().waitFor();
  await login(op, process.env.OPERATOR, "/pipelines/shop");
  assert(new globalThis.URL(op.url()).pathname === "/pipelines/shop", "after login at " + op.url());
  await op.locator('h1[data-pipeline="shop"]').waitFor();
  const missing = op.trail.filter((l) => / 404$/.test(l));
  assert(missing.length === 0, "the pages asked for what is not there: " + missing.join(", "));
});

await check("push-appears-live-on-the-pipeline-page-and-goes-green", async () => {
  // the page listens (its event stream answered) before the push is made
  const listening = op.waitForResponse((r) => r.url().includes("/ui/events"));
  await op.goto(URL + "/pipelines/shop");
  await listening;
  await op.evaluate(() => { window.__notReloaded = true; });
  const ids = pushStarted(XSS);
  pushed = ids.shop;
  assert(pushed, "the push started no execution of shop: " + JSON.stringify(ids));
  await op.locator(`li.execution[data-execution="${pushed}"]`).waitFor();
  await op.locator(`li.execution[data-execution="${pushed}"][data-status="Succeeded"]`).waitFor();
  await op.locator('section.stage[data-stage="Build"][data-status="Succeeded"]').waitFor();
  await op.locator('div.action[data-action-name="Compile"][data-status="Succeeded"]').waitFor();
  assert(await op.evaluate(() => window.__notReloaded === true), "the page was reloaded");
  await shot(op, "pipeline");
});

await check("script-in-commit-message-is-shown-as-text", async () => {
  assert(pushed, "no pushed execution (the previous check failed)");
  await op.goto(URL + "/");
  const msg = op.locator('li.pipeline[data-pipeline="shop"] .trigger .message');
  await msg.waitFor();
  const text = await msg.textContent();
  assert(text.includes('<script>alert("xss")</script>'), "message not shown as text: " + text);
  assert((await op.locator("main script, main img").count()) === 0, "a script or img element came from the message");
  await shot(op, "pipelines");
  await op.goto(`${URL}/pipelines/shop/executions/${pushed}`);
  await op.locator("#execution-status").waitFor();
  assert((await op.locator("main").textContent()).includes("<script>"), "execution page lacks the message as text");
  await op.waitForTimeout(200);
  assert(op.dialogs.length === 0, "a dialog fired: " + op.dialogs.join(", "));
  assert(op.errors.length === 0, "script errors: " + op.errors.join(", "));
});

await check("approving-in-the-browser-advances-the-pipeline", async () => {
  await op.goto(URL + "/pipelines/gated");
  await op.evaluate(() => { window.__notReloaded = true; });
  await op.locator('button[data-action="start"]').click();
  const approve = op.locator('button[data-action="approve"]');
  await approve.waitFor();
  const custom = await op.locator(".approval .custom-data").textContent();
  assert(custom.includes("Ship <b>it</b>?"), "CustomData not shown as text: " + custom);
  assert((await op.locator('.approval a.external-link[href="http://127.0.0.1/review"]').count()) === 1, "no external link");
  await op.locator(".approval textarea").fill("looks good to me");
  await approve.click();
  await op.locator('section.stage[data-stage="Deploy"][data-status="Succeeded"]').waitFor();
  await op.locator('li.execution[data-status="Succeeded"]').first().waitFor();
  const review = await op.locator('div.action[data-action-name="Review"]').textContent();
  assert(review.includes("looks good to me"), "the approval's comment is not shown: " + review);
  assert(await op.evaluate(() => window.__notReloaded === true), "the page was reloaded");
});

let brokenExec = null;
await check("failing-build-log-follows-live-and-shows-the-failing-command", async () => {
  // started here, followed from the pipeline page to the execution page while it runs
  await op.goto(URL + "/pipelines/broken");
  await op.locator('button[data-action="start"]').click();
  const running = op.locator('div.action[data-action-name="Compile"][data-status="InProgress"]');
  await running.waitFor();
  await Promise.all([op.waitForURL(/\/executions\//), running.locator("a.details").click()]);
  brokenExec = op.url().split("/executions/")[1].split(/[?#]/)[0];
  await op.evaluate(() => { window.__notReloaded = true; });
  const pane = op.locator('li[data-action-name="Compile"] details.log[open] pre[data-log-src]');
  await pane.waitFor();
  await pane.filter({ hasText: "about to fail" }).waitFor();
  assert((await pane.getAttribute("data-ended")) !== "1", "the log had ended before the build failed");
  await op.waitForFunction((el) => el.dataset.ended === "1", await pane.elementHandle());
  const log = await pane.textContent();
  assert(log.includes("Running command ferry_missing_tool --frobnicate"), "log lacks the failing command:\n" + log.slice(-600));
  assert(log.includes("ferry_missing_tool: not found"), "log lacks the shell's error");
  assert(log.split("about to fail").length === 3, "the log shows lines twice (or not at all): " + (log.split("about to fail").length - 1));
  assert((await pane.locator("span.fg1", { hasText: "red" }).count()) === 1, "ANSI red not rendered");
  assert(!log.includes("\u001b["), "raw escape sequences in the log");
  await op.locator('#execution-status [data-status="Failed"]').waitFor();
  assert(await op.evaluate(() => window.__notReloaded === true), "the page was reloaded");
  await shot(op, "execution");
});

await check("retry-and-transition-buttons-work", async () => {
  await op.goto(URL + "/pipelines/broken");
  await op.locator('section.stage[data-stage="Build"][data-status="Failed"]').waitFor();
  await op.locator('section.stage[data-stage="Build"] button[data-action="retry"]').click();
  await op.locator('div.action[data-action-name="Compile"][data-status="InProgress"]').waitFor();
  await op.locator('div.action[data-action-name="Compile"][data-status="Failed"]').waitFor();
  const tr = op.locator('.transition[data-transition-to="Build"]');
  // a reason the engine refuses: its words next to the button
  await tr.locator('input[name="reason"]').fill("freeze <b>now</b>");
  await tr.locator('button[data-action="disable-transition"]').click();
  const err = tr.locator(".form-error");
  await err.waitFor();
  assert(/character '<' is not allowed/.test(await err.textContent()), "no error next to the button: " + (await err.textContent()));
  await tr.locator('input[name="reason"]').fill("release day (freeze)");
  await tr.locator('button[data-action="disable-transition"]').click();
  await op.locator('.transition[data-transition-to="Build"][data-enabled="false"]').waitFor();
  const text = await op.locator('.transition[data-transition-to="Build"]').textContent();
  assert(text.includes("release day (freeze)"), "the reason is not shown: " + text);
  await op.locator('.transition[data-transition-to="Build"] button[data-action="enable-transition"]').click();
  await op.locator('.transition[data-transition-to="Build"][data-enabled="true"]').waitFor();
});

await check("a-failed-form-post-says-why-in-words", async () => {
  // two more reviewers have the waiting approval open, one without the script; the
  // first answers it, then the other two try: the engine's refusal is shown in words,
  // without the script on the page the post comes back to, with it next to the button
  // (or at the top when the live page has dropped the form meanwhile)
  await op.goto(URL + "/pipelines/gated");
  await op.locator('button[data-action="start"]').click();
  await op.locator('button[data-action="approve"]').waitFor();
  const nojs = await newPage(process.env.OPERATOR, { javaScriptEnabled: false });
  await nojs.goto(URL + "/pipelines/gated");
  await nojs.locator(".approval textarea").fill("too late");
  const late = await newPage(process.env.OPERATOR);
  await late.goto(URL + "/pipelines/gated");
  await late.locator(".approval textarea").fill("me too");
  await op.locator(".approval textarea").fill("first");
  await op.locator('button[data-action="approve"]').click();
  await op.locator('div.action[data-action-name="Review"][data-status="Succeeded"]').waitFor();
  await late.waitForTimeout(300); // the change reached the other page, which waits for the typing
  assert(await late.locator(".approval textarea").inputValue() === "me too", "the typed comment was lost");
  await Promise.all([nojs.waitForURL(/\/pipelines\/gated/), nojs.locator('button[data-action="approve"]').click()]);
  const said = await nojs.locator("#flash").textContent();
  assert(/already answered/.test(said), "the flash does not say what is wrong: " + said);
  await late.locator('button[data-action="approve"]').click();
  const err = late.locator(".form-error, #flash").filter({ hasText: /already answered/ });
  await err.first().waitFor();
  await late.waitForTimeout(600); // the deferred refresh lands: the message stays
  assert(await err.count() >= 1, "the error vanished when the page refreshed");
  assert(await late.locator('button[data-action="approve"]').count() === 0, "the answered approval is still offered");
  await nojs.context().close();
  await late.context().close();
  await op.locator('li.execution[data-status="Succeeded"]').first().waitFor();
});

await check("history-page-charts-durations", async () => {
  await op.goto(URL + "/pipelines/shop/history");
  await op.locator("svg.chart").waitFor();
  await shot(op, "history");
});

await check("sites-and-functions-pages-show-their-objects", async () => {
  await op.goto(URL + "/sites");
  await op.locator("main", { hasText: "docs" }).waitFor();
  assert((await op.locator('button[data-action="rollback"]').count()) >= 1, "no rollback button for release 1");
  await shot(op, "sites");
  await op.goto(URL + "/functions");
  await op.locator("main", { hasText: "hello" }).waitFor();
  await shot(op, "functions");
});

await check("times-are-shown-in-the-browsers-time-zone", async () => {
  const p = await newPage(process.env.OPERATOR, { timezoneId: "Asia/Kathmandu", locale: "de-DE" });
  await p.goto(URL + "/pipelines/broken");
  const t = p.locator("time[datetime]").first();
  await t.waitFor();
  const iso = await t.getAttribute("datetime");
  const shown = (await t.textContent()).trim();
  const want = new Date(iso).toLocaleString("de-DE", { timeZone: "Asia/Kathmandu" });
  assert(shown.includes(want.split(",")[1].trim().slice(0, 5)), `time ${iso} shown as "${shown}", expected local ${want}`);
  await p.context().close();
});

await check("keyboard-focus-is-visible", async () => {
  await op.goto(URL + "/pipelines/gated");
  const seen = [];
  for (let i = 0; i < 8; i++) {
    await op.keyboard.press("Tab");
    const f = await op.evaluate(() => {
      const a = document.activeElement;
      if (!a || a === document.body) return null;
      const s = getComputedStyle(a);
      return { tag: a.tagName, text: (a.textContent || a.name || "").trim().slice(0, 30), outline: s.outlineStyle, width: parseFloat(s.outlineWidth) };
    });
    assert(f, "Tab focused nothing");
    assert(f.outline !== "none" && f.width >= 2, `focus not visible on ${f.tag} "${f.text}": outline ${f.outline} ${f.width}px`);
    seen.push(f.tag);
  }
  assert(seen.includes("BUTTON") || seen.includes("A"), "Tab reached no link or button: " + seen.join(" "));
});

await check("phone-width-pipeline-page-has-no-horizontal-scroll", async () => {
  const p = await newPage(process.env.OPERATOR, { viewport: { width: 375, height: 800 }, isMobile: true, hasTouch: true });
  for (const path of ["/pipelines/gated", "/pipelines/shop", "/", `/pipelines/broken/executions/${brokenExec}`]) {
    await p.goto(URL + path);
    const w = await p.evaluate(() => document.documentElement.scrollWidth);
    if (path === "/pipelines/gated") await shot(p, "pipeline-phone");
    assert(w <= 375, `${path} is ${w}px wide at a 375px viewport`);
  }
  await p.context().close();
});

await check("read-only-token-sees-no-buttons-and-a-forged-post-is-refused", async () => {
  // an approval waits, so the operator would see Approve / Reject
  await op.goto(URL + "/pipelines/gated");
  await op.locator('button[data-action="start"]').click();
  await op.locator('button[data-action="approve"]').waitFor();
  const p = await newPage(process.env.READER);
  for (const path of ["/", "/pipelines/gated", "/pipelines/broken", "/sites", `/pipelines/broken/executions/${brokenExec}`]) {
    await p.goto(URL + path);
    const buttons = await p.locator("main button, main input[type=submit]").count();
    assert(buttons === 0, `${path} shows ${buttons} button(s) to a read-only token`);
  }
  await p.goto(URL + "/pipelines/gated");
  const before = await p.locator("li.execution").count();
  const r = await p.evaluate(async () => {
    const meta = document.querySelector('meta[name="csrf-token"]');
    const out = {};
    for (const [k, path, body] of [
      ["start", "/ui/pipelines/gated/start", ""],
      ["approve", "/ui/pipelines/gated/stages/Gate/actions/Review/approval", "result=Approved&comment=forged"],
    ]) {
      const res = await fetch(path, {
        method: "POST", credentials: "same-origin", body,
        headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Ferry-Fetch": "1", "X-CSRF-Token": meta ? meta.content : "" },
      });
      out[k] = res.status;
    }
    return out;
  });
  assert(r.start === 403 && r.approve === 403, "forged posts answered " + JSON.stringify(r));
  await p.reload();
  assert((await p.locator("li.execution").count()) === before, "a forged start started an execution");
  assert((await p.locator('div.action[data-action-name="Review"][data-status="InProgress"]').count()) === 1, "the forged approval answered the approval");
  await p.context().close();
});

// ---- stopping, rolling back, downloading, catching up, many tabs, a restart ----

const DATA = process.env.FERRY_DATA;
const daemonPid = () => Number(readFileSync(`${process.env.W}/daemon.pid`, "utf8"));
// ferry(args…) — a ferry command against the fixture's daemon; its output
function ferry(...args) {
  const r = spawnSync(process.env.FERRY, args, { encoding: "utf8", env: process.env });
  if (r.status !== 0) throw new Error(`ferry ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}
// a process's figures from /proc/PID/status: threads and resident memory (kB)
function procStatus(pid) {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  return { threads: Number(/^Threads:\s+(\d+)/m.exec(s)[1]), rssKb: Number(/^VmRSS:\s+(\d+)/m.exec(s)[1]) };
}

await check("stop-button-stops-a-running-build-and-the-page-shows-it-live", async () => {
  await op.goto(URL + "/pipelines/slow");
  await op.evaluate(() => { window.__notReloaded = true; });
  await op.locator('button[data-action="start"]').click();
  await op.locator('div.action[data-action-name="Crawl"][data-status="InProgress"]').waitFor();
  const li = op.locator('li.execution[data-status="InProgress"]').first();
  await li.locator('button[data-action="stop"]').waitFor();
  const id = await li.getAttribute("data-execution");
  const t0 = Date.now();
  // Stop (finish the running action): the execution says Stopping while the build runs
  await li.locator('button[data-action="stop"]').click();
  await op.locator(`li.execution[data-execution="${id}"][data-status="Stopping"]`).waitFor();
  await shot(op, "pipeline-stopping");
  // then abandoned (the CLI: the page offers no second stop): Stopped, long before the
  // build's 30 s are over, with no reload
  ferry("pipeline", "stop", "slow", id, "--abandon");
  await op.locator(`li.execution[data-execution="${id}"][data-status="Stopped"]`).waitFor();
  assert(Date.now() - t0 < 15000, `stopped only after ${Date.now() - t0} ms`);
  assert((await op.locator(`li.execution[data-execution="${id}"] button[data-action="stop"]`).count()) === 0, "a stopped execution still offers Stop");
  assert(await op.evaluate(() => window.__notReloaded === true), "the page was reloaded");
  // its page says so too
  await op.goto(`${URL}/pipelines/slow/executions/${id}`);
  await op.locator('#execution-status [data-status="Stopped"]').waitFor();
  await op.locator('li[data-action-name="Crawl"][data-status="Abandoned"]').waitFor();
});

await check("rollback-on-the-sites-page-serves-the-older-release-and-marks-it-live", async () => {
  const edge = readFileSync(`${DATA}/edge.url`, "utf8").trim().replace(/\/$/, "");
  const served = async () => (await (await fetch(`${edge}/docs/`, { headers: { "Cache-Control": "no-cache" } })).text()).trim();
  assert((await served()) === "two", "before: the edge serves " + JSON.stringify(await served()));
  await op.goto(URL + "/sites");
  await op.evaluate(() => { window.__notReloaded = true; });
  const site = op.locator('section.site[data-site="docs"]');
  assert((await site.locator('tr[data-live="true"]').getAttribute("data-release")) === "2", "release 2 is not marked live");
  await site.locator('tr[data-release="1"] button[data-action="rollback"]').click();
  // the page marks the new live release (3, release 1's content) without a reload
  await site.locator('tr[data-live="true"]:not([data-release="2"])').waitFor();
  const live = site.locator('tr[data-live="true"]');
  assert((await live.count()) === 1, (await live.count()) + " releases marked live");
  assert((await site.locator('tr[data-release="2"] button[data-action="rollback"]').count()) === 1, "release 2 offers no rollback now");
  assert((await site.locator(".form-error, #flash").count()) === 0, "an error: " + (await op.locator("main").textContent()).slice(0, 300));
  assert((await served()) === "one", "after: the edge serves " + JSON.stringify(await served()));
  await shot(op, "sites-rolled-back");
});

await check("artifact-download-link-returns-a-zip", async () => {
  assert(pushed, "no pushed execution (an earlier check failed)");
  await op.goto(`${URL}/pipelines/shop/executions/${pushed}`);
  const link = op.locator("ul.artifacts a[download]").first();
  await link.waitFor();
  const href = await link.getAttribute("href");
  // as the browser downloads it
  const [dl] = await Promise.all([op.waitForEvent("download"), link.click()]);
  assert(/\.zip$/.test(dl.suggestedFilename()), "downloaded as " + dl.suggestedFilename());
  const bytes = readFileSync(await dl.path());
  assert(bytes.length > 22 && bytes.subarray(0, 2).toString() === "PK", "not a zip: " + JSON.stringify(bytes.subarray(0, 8).toString()));
  // and what the server answers (the session's cookie)
  const r = await op.context().request.get(URL + href);
  assert(r.status() === 200, "answered " + r.status());
  assert(r.headers()["content-type"] === "application/zip", "content-type " + r.headers()["content-type"]);
  assert((await r.body()).subarray(0, 2).toString() === "PK", "the body is no zip");
});

await check("function-invocation-log-opens-and-shows-its-output", async () => {
  await op.goto(URL + "/functions");
  const inv = op.locator('section.function[data-function="hello"] ul.invocations li').first();
  await inv.waitFor();
  const log = inv.locator("details.log");
  await log.locator("summary").click();
  const pre = log.locator("pre");
  await pre.waitFor({ state: "visible" });
  assert((await pre.textContent()).includes("hello from fn"), "the log lacks the function's output: " + (await pre.textContent()).slice(0, 400));
});

await check("a-closed-tab-reopened-shows-what-happened-meanwhile", async () => {
  const p = await newPage(process.env.OPERATOR);
  await p.goto(URL + "/pipelines/shop");
  await p.locator('h1[data-pipeline="shop"]').waitFor();
  const ctx = p.context();
  await p.close();
  const id = pushStarted("while the tab was closed").shop;
  assert(id, "the push started no execution of shop");
  const again = await ctx.newPage();
  await again.goto(URL + "/pipelines/shop");
  await again.locator(`li.execution[data-execution="${id}"]`).waitFor();
  await again.locator(`li.execution[data-execution="${id}"][data-status="Succeeded"]`).waitFor();
  await ctx.close();
});

await check("twenty-open-tabs-cost-the-daemon-little", async () => {
  // 5 browser contexts (a browser keeps at most 6 connections per host in each) with 4
  // live pipeline pages each; every page's event stream answered
  const pid = daemonPid(), t0 = Date.now();
  await op.goto(URL + "/pipelines/shop");
  await op.waitForTimeout(300);
  const before = procStatus(pid);
  const pages = [];
  for (let c = 0; c < 5; c++) {
    const first = await newPage(process.env.OPERATOR);
    pages.push(first);
    for (let i = 1; i < 4; i++) pages.push(await first.context().newPage());
  }
  await Promise.all(pages.map(async (p, i) => {
    const listening = p.waitForResponse((r) => r.url().includes("/ui/events"));
    await p.goto(URL + (i % 2 ? "/pipelines/shop" : "/"));
    await listening;
  }));
  await op.waitForTimeout(300);
  const after = procStatus(pid);
  console.log(`     ${pages.length} tabs opened in ${Date.now() - t0} ms`);
  const threads = after.threads - before.threads, rss = after.rssKb - before.rssKb;
  console.log(`     daemon with 1 open page: ${before.threads} threads, ${before.rssKb} kB RSS; with 21: ` +
    `${after.threads} threads (+${threads}), ${after.rssKb} kB (+${rss} kB, ${(rss / pages.length).toFixed(0)} kB a tab)`);
  // and a change still reaches every page
  const id = pushStarted("seen by twenty tabs").shop;
  for (const p of pages.filter((_, i) => i % 2)) await p.locator(`li.execution[data-execution="${id}"]`).waitFor();
  await pages[1].locator(`li.execution[data-execution="${id}"][data-status="Succeeded"]`).waitFor();
  console.log(`     the push seen by all in ${Date.now() - t0} ms`);
  for (const p of pages) if (open.has(p)) await p.context().close().catch(() => {});
  assert(threads <= 2, `the daemon grew by ${threads} threads for ${pages.length} tabs`);
  assert(rss < 5120, `the daemon grew by ${rss} kB for ${pages.length} tabs`);
});

// restartDaemon() — stops the daemon (SIGTERM, by its PID) and starts another on the
// same data directory and the same ports; its PID goes to daemon.pid (run.sh stops it)
async function restartDaemon() {
  const pid = daemonPid();
  const port = new globalThis.URL(URL).port;
  const edgePort = new globalThis.URL(readFileSync(`${DATA}/edge.url`, "utf8").trim()).port;
  process.kill(pid, "SIGTERM");
  const gone = () => { try { return / [ZX] /.test(readFileSync(`/proc/${pid}/stat`, "utf8")); } catch { return true; } };
  for (let i = 0; i < 200 && !gone(); i++) await new Promise((r) => setTimeout(r, 50));
  assert(gone(), "the daemon did not stop within 10 s of SIGTERM");
  rmSync(`${DATA}/daemon.url`, { force: true });
  const log = openSync(`${process.env.W}/serve.log`, "a");
  const child = spawn(process.env.FERRY, ["serve", "--data", DATA, "--listen", `127.0.0.1:${port}`,
    "--edge", `127.0.0.1:${edgePort}`, "--no-sandbox"], { stdio: ["ignore", log, log], detached: true });
  closeSync(log);
  child.unref();
  writeFileSync(`${process.env.W}/daemon.pid`, String(child.pid));
  for (let i = 0; i < 300 && !existsSync(`${DATA}/daemon.url`); i++) await new Promise((r) => setTimeout(r, 50));
  assert(existsSync(`${DATA}/daemon.url`), "the daemon did not start again on port " + port + " (serve.log)");
  const now = readFileSync(`${DATA}/daemon.url`, "utf8").trim().replace(/\/$/, "");
  assert(now === URL, `the daemon came back at ${now}, not ${URL}`);
}

await check("after-a-daemon-restart-an-open-page-reconnects-and-shows-later-changes", async () => {
  const listening = op.waitForResponse((r) => r.url().includes("/ui/events"));
  await op.goto(URL + "/pipelines/shop");
  await listening;
  await op.evaluate(() => { window.__notReloaded = true; });
  const t0 = Date.now();
  await restartDaemon();
  console.log(`     daemon restarted in ${Date.now() - t0} ms`);
  // the page's stream comes back by itself (EventSource retries)
  await op.waitForResponse((r) => r.url().includes("/ui/events") && r.status() === 200, { timeout: 10000 });
  const id = pushStarted("after the restart").shop;
  assert(id, "the push started no execution of shop");
  await op.locator(`li.execution[data-execution="${id}"][data-status="Succeeded"]`).waitFor();
  assert(await op.evaluate(() => window.__notReloaded === true), "the page was reloaded");
  assert(new globalThis.URL(op.url()).pathname === "/pipelines/shop", "the page went to " + op.url());
});

await browser.close();
console.log(`BROWSER_COUNTS ${passed} ${failed}`);
