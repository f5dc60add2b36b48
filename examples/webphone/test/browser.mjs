// Opens the webphone in Debian's Chromium (headless, driven by
// playwright-core), waits until the registration was granted keep=N and a
// keep-alive was answered, saves a screenshot and prints
// "RESULT <json>" with what the page shows.
//
//   node browser.mjs <page-url> <spki-sha256-base64> <screenshot.png> <profile-dir>
import { chromium } from "playwright-core";

const [pageURL, spki, shot, profile] = process.argv.slice(2);
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    // Trust exactly the proxy's throwaway certificate, by its key.
    `--ignore-certificate-errors-spki-list=${spki}`,
  ],
});
try {
  const page = context.pages()[0] || (await context.newPage());
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(pageURL);
  await page.waitForFunction(() => window.webphone && window.webphone.keep !== null && window.webphone.pongs >= 1, null, { timeout: 30000 });
  const state = await page.evaluate(() => ({
    keep: window.webphone.keep,
    sent: window.webphone.sent,
    pongs: window.webphone.pongs,
    registered: window.webphone.registered,
    shownKeep: document.getElementById("keep").textContent,
    shownPongs: document.getElementById("pongs").textContent,
    via: window.webphone.events.find((e) => e.type === "keep")?.via,
  }));
  await page.screenshot({ path: shot, fullPage: true });
  console.log("RESULT " + JSON.stringify({ ...state, errors }));
} catch (e) {
  console.error(String(e?.stack || e));
  process.exitCode = 1;
} finally {
  await context.close();
}
