// Drives the web control plane as a user would, in jsdom, against a live API:
//   node drive_page.mjs BASE_URL TOKEN
// Loads the page and its script from the API, types the token, then clicks through: interrupt and
// continue the deploy plan, scale to 4, start a cleanup, restart node-0, and one refused action.
// Prints one JSON line per step with the message the page showed; exits 1 on the first step
// whose message never appears. tests/api/test_web_page.py checks what reached the store.
import { JSDOM } from "jsdom";

const [base, token] = process.argv.slice(2);
const html = await (await fetch(new URL("/", base))).text();
const script = await (await fetch(new URL("/web/app.js", base))).text();
const dom = new JSDOM(html.replace(/<script src="[^"]+"><\/script>/, ""), {
  url: new URL("/", base).href,
  runScripts: "outside-only",
});
const w = dom.window;
w.fetch = (path, options) => fetch(new URL(path, base), options);
w.confirm = () => true;
let promptAnswer = null;
w.prompt = () => promptAnswer;
w.eval(script);

const doc = w.document;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, check, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = check();
    if (found) return found;
    if (Date.now() > deadline) {
      console.log(JSON.stringify({ failed: what, notice: doc.getElementById("notice")?.textContent }));
      process.exit(1);
    }
    await sleep(50);
  }
}

async function step(name, selector, expect) {
  const button = await waitFor(`${name}: button ${selector}`, () => doc.querySelector(selector));
  doc.getElementById("notice").textContent = "";
  button.dispatchEvent(new w.MouseEvent("click", { bubbles: true }));
  const text = await waitFor(`${name}: message ${expect}`, () => {
    const t = doc.getElementById("notice").textContent;
    return t.includes(expect) ? t : null;
  });
  console.log(JSON.stringify({ step: name, notice: text }));
}

const tokenInput = doc.getElementById("token");
tokenInput.value = token;
tokenInput.dispatchEvent(new w.Event("change"));

await step("interrupt", '[data-plan="deploy"] [data-action="interrupt"]', "interrupted plan deploy");
await step("continue", '[data-plan="deploy"] [data-action="continue"]', "continued plan deploy");
promptAnswer = "4";
await step("scale", '#summary [data-action="scale"]', "scaling from 3 to 4");
await step("cleanup", '#summary [data-action="cleanup"]', "cleanup of cluster demo started");
await step("restart", '#nodes tr:nth-child(2) [data-action="restart"]', "restarting node-0");
// A node the scheduler cannot place shows why.
const why = await waitFor("offer reasons", () => doc.querySelector("#nodes .offer-reasons li"));
console.log(JSON.stringify({ step: "offers", notice: why.textContent }));
// A refused action shows the API's reason, not a silent failure.
await step("refused", '[data-plan="deploy"] [data-action="continue"]', "is neither interrupted");
w.close();
process.exit(0);
