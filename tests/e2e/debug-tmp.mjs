import { CHROMIUM, CHROMIUM_ARGS, serve } from "../js/serve.mjs";
import { encodeState } from "../../www/src/state.js";
import { DIST, stateWith } from "./common.mjs";
const { chromium } = await import("playwright-core");
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
const site = await serve(DIST);
const small = { hidden: [{ type: "dense", units: { hp: "Int", min: 32, max: 64, step: 32 }, activation: { value: "relu" } }], repeat: null, regularizer: "none", regRate: { value: 0.001 }, optimizer: { value: "adam" }, learningRate: { value: 0.003 }, batchSize: { value: 32 }, epochs: { value: 5 } };
const st = stateWith({ data: { source: "mnist", trainPct: 80 }, model: small, tuner: { kind: "random", maxTrials: 3, seed: 9, workers: 1, device: "cpu", objective: "val_accuracy" } });
const page = await (await browser.newContext({ viewport: { width: 1366, height: 768 } })).newPage();
page.on("console", (m) => console.log("console", m.type(), m.text()));
page.on("pageerror", (e) => console.log("pageerror", e.message));
await page.goto(`${site.origin}/#${encodeState(st)}`);
await page.waitForFunction(() => window.tunelabPage && window.tunelabPage.info, null, { timeout: 60000 });
await page.click("#btn-start");
const show = async (w) => console.log(w, ((Date.now() - t0) / 1000).toFixed(1), JSON.stringify(await page.evaluate(() => [window.tunelabPage.running, window.tunelabPage.trials.map((t) => [t.id, t.status, t.epoch, t.curves?.val_loss?.length, t.score, t.message]), document.querySelector("#search-error")?.textContent])));
const t0 = Date.now();
for (let i = 0; i < 12; i++) { await new Promise((r) => setTimeout(r, 3000)); await show("before"); }
await page.reload();
await page.waitForFunction(() => window.tunelabPage && window.tunelabPage.info, null, { timeout: 60000 });
for (let i = 0; i < 15; i++) { await new Promise((r) => setTimeout(r, 3000)); await show("after"); }
await browser.close(); await site.close();
