// The dashboard (GET / on ftgw) in headless Chromium: a real cluster (3 nodes
// + gateway + ZooKeeper, started by launch_cluster.py with the integration
// harness), the page shows every member alive; a slow run is submitted and
// the page shows it in flight on its worker; that worker is killed with
// SIGKILL and the page must show it failed, in the members table and on the
// timeline, and the run in flight on another worker.  Screenshots are saved
// as test artefacts.
//
//   cd tests/browser && npm ci && node --test
//
// Environment:
//   FT_CHROMIUM           the browser (default /usr/bin/chromium, Debian's chromium)
//   FT_BROWSER_ARTIFACTS  where screenshots go (default tests/browser/artifacts)
//   FT_BUILD_DIR          the build with ftnode/ftgw (default: the repository root)
//   PYTHON                interpreter for the launcher (default /usr/bin/python3)
//
// Skips, saying why, when Chromium or playwright-core is not installed.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.FT_CHROMIUM || "/usr/bin/chromium";
const ARTIFACTS = process.env.FT_BROWSER_ARTIFACTS || path.join(here, "artifacts");
const PYTHON = process.env.PYTHON || "/usr/bin/python3";
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

let chromium = null;
let skip = false;
try {
  ({ chromium } = await import("playwright-core"));
} catch {
  skip = "playwright-core is not installed (cd tests/browser && npm ci)";
}
if (!skip && !existsSync(CHROMIUM))
  skip = `no Chromium at ${CHROMIUM} (apt-get install chromium, or set FT_CHROMIUM)`;
if (!skip && !existsSync(PYTHON)) skip = `no Python at ${PYTHON} for the cluster launcher`;

// The launcher: a child speaking JSON lines.
function startCluster() {
  const child = spawn(PYTHON, [path.join(here, "launch_cluster.py"), "--max-seconds", "400"], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  const lines = readline.createInterface({ input: child.stdout });
  const waiting = [];
  const queued = [];
  lines.on("line", (line) => {
    let msg;
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    const w = waiting.shift();
    if (w) w(msg);
    else queued.push(msg);
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr = (stderr + d).slice(-8000);
  });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  const next = (ms, what) =>
    new Promise((resolve, reject) => {
      if (queued.length) return resolve(queued.shift());
      const timer = setTimeout(
        () => reject(new Error(`launcher: no ${what} within ${ms} ms; stderr:\n${stderr}`)),
        ms,
      );
      waiting.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
      exited.then((code) =>
        reject(new Error(`launcher exited (${code}) before ${what}; stderr:\n${stderr}`)),
      );
    });
  return {
    next,
    send: (line) => child.stdin.write(line + "\n"),
    async stop() {
      if (child.exitCode !== null) return;
      child.stdin.end("stop\n");
      const t = setTimeout(() => child.kill("SIGTERM"), 30000);
      await exited;
      clearTimeout(t);
    },
  };
}

test("dashboard shows a killed worker as failed", { skip, timeout: 300000 }, async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const launcher = startCluster();
  const profile = mkdtempSync(path.join(tmpdir(), "ftbrowser-profile-"));
  let context = null;
  let page = null;
  let shot = false;
  try {
    const info = await launcher.next(180000, "cluster");
    assert.ok(info.gateway, `launcher failed: ${JSON.stringify(info)}`);
    const origin = new URL(info.gateway).origin;

    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: { width: 1400, height: 900 },
    });
    page = context.pages()[0] || (await context.newPage());
    const foreign = [];
    const errors = [];
    page.on("request", (req) => {
      if (!req.url().startsWith(origin + "/") && !req.url().startsWith("data:"))
        foreign.push(req.url());
    });
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });

    await page.goto(info.gateway + "/");
    await assert.doesNotReject(page.title());
    // Every member alive, the leader named.
    for (const n of info.nodes)
      await page.locator(`tr[data-node="${n}"][data-state="alive"]`).waitFor({ timeout: 20000 });
    await page.locator('tr[data-node="0"][data-state="alive"]').waitFor({ timeout: 5000 });
    await page.waitForFunction(
      (leader) => document.getElementById("c-leader").textContent === `node ${leader}`,
      info.leader,
      { timeout: 10000 },
    );
    const leaderRow = page.locator(`tr[data-node="${info.leader}"]`);
    assert.match(await leaderRow.innerText(), /LEADER/);
    // A slow run, and the worker it runs on: the victim.
    const slow = `// ${Date.now()} ${Math.random()}\npublic class Slow {\n` +
      `  public String run() throws Exception { Thread.sleep(6000); return "slow"; }\n}\n`;
    const posted = await fetch(info.gateway + "/v1/runs", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ source: slow, wait: false }),
    });
    assert.equal(posted.status, 202);
    const runId = (await posted.json()).id;
    const runNow = async () => (await fetch(`${info.gateway}/v1/runs/${runId}`)).json();
    let run = await runNow();
    for (let i = 0; i < 100 && run.status !== "running"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      run = await runNow();
    }
    assert.equal(run.status, "running", JSON.stringify(run));
    const victim = run.worker;
    assert.notEqual(victim, info.leader, "the leader works only when no other node can");
    await page.waitForFunction(
      (w) => document.querySelector(`[data-inflight="${w}"]`)?.textContent === "1",
      victim,
      { timeout: 10000 },
    );
    // Heartbeat ages are shown as seconds.
    assert.match(await page.locator(`[data-age="${victim}"]`).innerText(), /^\d+(\.\d)? s$/);
    await page.screenshot({ path: path.join(ARTIFACTS, "dashboard-alive.png"), fullPage: true });

    launcher.send(`kill ${victim}`);
    assert.deepEqual(await launcher.next(20000, "kill"), { killed: victim });

    // The page shows it failed: in the table and on the timeline.
    const failedRow = page.locator(`tr[data-node="${victim}"][data-state="failed"]`);
    await failedRow.waitFor({ timeout: 20000 });
    assert.match(await failedRow.innerText(), /failed/);
    const event = page.locator(`#timeline li[data-type="member_failed"][data-node="${victim}"]`);
    await event.first().waitFor({ timeout: 10000 });
    assert.match(await event.first().innerText(), new RegExp(`node ${victim} failed`));
    assert.equal(await page.locator("#c-failed").innerText(), "1");
    // The leader gave the run to another worker, and the page shows it there.
    await page.waitForFunction(
      (dead) => [...document.querySelectorAll("[data-inflight]")].some(
        (td) => td.getAttribute("data-inflight") !== String(dead) && td.textContent === "1"),
      victim,
      { timeout: 20000 },
    );
    await page.screenshot({ path: path.join(ARTIFACTS, "dashboard-failed.png"), fullPage: true });
    shot = true;
    for (let i = 0; i < 300 && run.status !== "done"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      run = await runNow();
    }
    assert.equal(run.verdict, "ok", JSON.stringify(run));
    assert.equal(run.output, "slow");
    assert.ok(run.attempts >= 2 && run.worker !== victim, JSON.stringify(run));

    assert.deepEqual(foreign, [], "the page loaded something from elsewhere");
    assert.deepEqual(errors, [], "errors in the page");
  } finally {
    if (page && !shot)
      await page
        .screenshot({ path: path.join(ARTIFACTS, "dashboard-error.png"), fullPage: true })
        .catch(() => {});
    if (context) await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
    await launcher.stop();
  }
});
