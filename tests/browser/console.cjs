// The console in a real browser (Debian's Chromium through playwright-core), against a
// running `stepwise serve`. Run by tests/e2e/test_console_browser.py:
//   node tests/browser/console.cjs SCENARIO ENDPOINT EXECUTION_ARN
// SCENARIO: live    — the execution's page shows RUNNING with its state highlighted on the
//                     graph, then SUCCEEDED without a reload (graph and table of visits
//                     updated); a state picked from the
//                     keyboard opens its step panel
//           graph   — a finished execution's graph: a caught Map, its failed iteration
//                     picked, readable at phone width and in dark mode
//           start   — (ARN of a state machine) input that is not JSON is refused before
//                     it is sent; valid input starts an execution
//           approve — Approve on the Waiting tasks page ends the execution
//           escape  — a hostile state name renders as text and runs nothing
// Exits 0 when the scenario holds; prints why and exits 1 otherwise.
"use strict";
const path = require("path");
const prefix = process.env.PLAYWRIGHT_PREFIX || path.join(__dirname, "../../target/browser-e2e");
const { chromium } = require(path.join(prefix, "node_modules", "playwright-core"));

const [scenario, endpoint, arn] = process.argv.slice(2);
const executionUrl = `${endpoint}/console/executions/${encodeURIComponent(arn)}`;

function fail(message) {
  console.error(`${scenario}: ${message}`);
  process.exit(1);
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-gpu"],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const dialogs = [];
  page.on("dialog", async (d) => { dialogs.push(d.message()); await d.dismiss(); });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  try {
    if (scenario === "live") {
      await page.goto(executionUrl);
      const status = page.locator("#status");
      if ((await status.textContent()) !== "RUNNING") fail(`status is ${await status.textContent()}, not RUNNING`);
      const node = (name) => page.locator(`svg g[data-state="${name}"]`);
      if ((await node("Nap").getAttribute("data-status")) !== "running") fail("the Wait state is not highlighted as running");
      if ((await node("Done").getAttribute("data-status")) !== "notstarted") fail("Done is drawn as started");
      if (await page.locator('tr[data-visit-state="Done"]').count()) fail("the table has a row for Done before it ran");
      // No reload from here on: the page must turn SUCCEEDED by itself.
      await page.waitForFunction(() => document.getElementById("status").textContent === "SUCCEEDED", null, { timeout: 15000 });
      const last = await page.locator("tbody tr").last().locator("td").nth(1).textContent();
      if (last !== "ExecutionSucceeded") fail(`the last row is ${last}`);
      if (await page.getByRole("button", { name: "Stop" }).count()) fail("Stop is still offered");
      await page.waitForFunction(() => document.querySelector('svg g[data-state="Done"]').dataset.status === "succeeded", null, { timeout: 5000 });
      if ((await node("Nap").getAttribute("data-status")) !== "succeeded") fail("the Wait state did not turn succeeded");
      // The table of visits grew and updated without a reload too.
      await page.waitForFunction(() => {
        const done = document.querySelector('tr[data-visit-state="Done"] .step-status');
        return done && done.textContent === "succeeded";
      }, null, { timeout: 5000 });
      const nap = await page.locator('tr[data-visit-state="Nap"] .step-status').textContent();
      if (nap !== "succeeded") fail(`the Wait state's row reads ${nap}`);
      // A state picked from the keyboard: its link focused, Enter.
      await page.locator('svg a:has(g[data-state="Nap"])').focus();
      await page.keyboard.press("Enter");
      await page.waitForURL((u) => u.searchParams.get("state") === "Nap");
      const step = await page.locator("#step").textContent();
      if (!step.includes("Nap") || !step.includes("Wait")) fail(`the step panel reads ${step}`);
      if (process.env.SCREENSHOTS) await page.screenshot({ path: path.join(process.env.SCREENSHOTS, "console-execution.png"), fullPage: true });
    } else if (scenario === "graph") {
      await page.goto(executionUrl);
      const node = (name) => page.locator(`svg g[data-state="${name}"]`);
      const want = { Check: "succeeded", Fan: "succeeded", Items: "caught", Bad: "failed", Good: "succeeded", Done: "succeeded" };
      for (const [name, s] of Object.entries(want)) {
        const got = await node(name).getAttribute("data-status");
        if (got !== s) fail(`${name} is ${got}, not ${s}`);
      }
      await node("Items").click();
      await page.waitForURL((u) => u.searchParams.get("state") === "Items");
      await page.getByRole("link", { name: "#1 failed" }).click();
      await page.waitForURL((u) => u.searchParams.has("it"));
      if ((await node("Good").getAttribute("data-status")) !== "notstarted") fail("the picked iteration shows another's states");
      if ((await node("Bad").getAttribute("data-status")) !== "failed") fail("the failed iteration's Fail state is not failed");
      await node("Bad").click();
      await page.waitForURL((u) => u.searchParams.get("state") === "Bad");
      if (!(await page.locator("#step").textContent()).includes("item two")) fail("the step panel has no cause");
      // Readable at phone width: nothing wider than the screen but the graph's own box.
      await page.setViewportSize({ width: 390, height: 844 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      if (overflow > 2) fail(`the page is ${overflow}px wider than a phone`);
      if (process.env.SCREENSHOTS) {
        await page.screenshot({ path: path.join(process.env.SCREENSHOTS, "console-phone.png") });
        await page.setViewportSize({ width: 1280, height: 900 });
        await page.goto(`${executionUrl}?state=Items`);
        await page.screenshot({ path: path.join(process.env.SCREENSHOTS, "console-graph.png"), fullPage: true });
        await page.emulateMedia({ colorScheme: "dark" });
        await page.goto(executionUrl);
        await page.screenshot({ path: path.join(process.env.SCREENSHOTS, "console-dark.png") });
      }
    } else if (scenario === "start") {
      await page.goto(`${endpoint}/console/state-machines/${encodeURIComponent(arn)}`);
      const input = page.locator("textarea[name=input]");
      await input.fill('{"broken": ');
      await page.getByRole("button", { name: "Start" }).click();
      await page.waitForTimeout(300);
      if (!page.url().includes("/console/state-machines/")) fail("input that is not JSON was sent");
      const note = await page.locator(".input-error").textContent();
      if (!note.includes("not JSON")) fail(`the error reads "${note}"`);
      await input.fill('{"from": "the browser"}');
      await page.getByRole("button", { name: "Start" }).click();
      await page.waitForURL((u) => u.pathname.startsWith("/console/executions/"));
      await page.waitForFunction(() => document.getElementById("status").textContent === "SUCCEEDED", null, { timeout: 15000 });
    } else if (scenario === "approve") {
      await page.goto(`${endpoint}/console/tasks`);
      const section = page.locator("section.task", { hasText: arn });
      await section.locator("textarea[name=output]").fill('{"approved": "from the browser"}');
      await section.getByRole("button", { name: "Approve" }).click();
      await page.waitForURL((u) => u.pathname.startsWith("/console/executions/"));
      await page.waitForFunction(() => document.getElementById("status").textContent === "SUCCEEDED", null, { timeout: 15000 });
      const output = await page.locator("#output pre").textContent();
      if (!output.includes("from the browser")) fail(`output is ${output}`);
      if (process.env.SCREENSHOTS) await page.goto(`${endpoint}/console/tasks`).then(() => page.screenshot({ path: path.join(process.env.SCREENSHOTS, "console-tasks.png") }));
    } else if (scenario === "escape") {
      await page.goto(executionUrl);
      const text = await page.locator("body").textContent();
      if (!text.includes("<img src=x onerror=alert(1)>")) fail("the state name is not shown as text");
      if ((await page.locator("svg g[data-state]").count()) !== 1) fail("the hostile state is not one node of the graph");
      if ((await page.locator("img").count()) !== 0) fail("an <img> element was made from user data");
      await page.waitForTimeout(300);
      if (dialogs.length) fail(`a dialog opened: ${dialogs}`);
    } else {
      fail("unknown scenario");
    }
    if (errors.length) fail(`page errors: ${errors.join("; ")}`);
    console.log(`${scenario}: ok`);
  } catch (e) {
    fail(String(e));
  } finally {
    await browser.close();
  }
})();
