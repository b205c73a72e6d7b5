// The console in a real browser (Debian's Chromium through playwright-core), against a
// running `stepwise serve`. Run by tests/e2e/test_console_browser.py:
//   node tests/browser/console.cjs SCENARIO ENDPOINT EXECUTION_ARN
// SCENARIO: live    — the execution's page shows RUNNING, then SUCCEEDED without a reload
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
      // No reload from here on: the page must turn SUCCEEDED by itself.
      await page.waitForFunction(() => document.getElementById("status").textContent === "SUCCEEDED", null, { timeout: 15000 });
      const last = await page.locator("tbody tr").last().locator("td").nth(1).textContent();
      if (last !== "ExecutionSucceeded") fail(`the last row is ${last}`);
      if (await page.getByRole("button", { name: "Stop" }).count()) fail("Stop is still offered");
      if (process.env.SCREENSHOTS) await page.screenshot({ path: path.join(process.env.SCREENSHOTS, "console-execution.png"), fullPage: true });
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
