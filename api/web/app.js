// The web control plane: reads the REST API every 2 s and renders clusters, plans and nodes;
// its buttons call the same REST API as the CLI (with the bearer token typed in the header).
"use strict";

const REFRESH_MS = 2000;
const TOKEN_KEY = "cm-token";
let selected = null;

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c ?? "")));
  return e;
}

function badge(status) {
  return el("span", { class: `status ${status}`, "data-status": status }, status);
}

async function getJSON(path) {
  const r = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await r.json();
  if (!r.ok) throw new Error(body.message || `HTTP ${r.status}`);
  return body;
}

function notice(text, isError = false) {
  const n = document.getElementById("notice");
  n.textContent = text;
  n.className = isError ? "plan-error" : "muted";
}

// A mutation: the API's message on success, its error message (4xx) shown otherwise.
async function act(method, path, body) {
  const headers = { Accept: "application/json" };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  try {
    const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const answer = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(answer.message || `HTTP ${r.status}`);
    notice(answer.message || "done");
  } catch (e) {
    notice(`${method} ${path}: ${e.message}`, true);
  }
  refresh();
}

function button(action, label, onClick) {
  const b = el("button", { "data-action": action, type: "button" }, label);
  b.addEventListener("click", onClick);
  return b;
}

function clusterActions(c) {
  const base = `/v1/clusters/${c.name}`;
  return el("p", { class: "actions" },
    button("scale", "Scale…", () => {
      const n = prompt(`Scale ${c.name} to how many nodes? (now ${c.nodes}; grow only)`, String(c.nodes + 1));
      if (n !== null && n !== "") act("POST", `${base}/scale`, { nodes: Number(n) });
    }),
    button("cleanup", "Cleanup", () => {
      if (confirm(`Run nodetool cleanup on every node of ${c.name}, one at a time?`))
        act("PUT", `${base}/cleanup/start`, { nodes: ["*"] });
    }),
    button("repair", "Repair", () => {
      if (confirm(`Run a full primary-range repair on every node of ${c.name}, one at a time?`))
        act("PUT", `${base}/repair/start`, { nodes: ["*"] });
    }),
    button("delete", "Delete…", () => {
      if (prompt(`Type ${c.name} to delete the cluster, its data volumes and reservations`) === c.name)
        act("DELETE", base);
    }),
  );
}

function planActions(cluster, plan) {
  const base = `/v1/clusters/${cluster}/plans/${plan.name}`;
  const out = el("span", { class: "actions" });
  for (const verb of ["interrupt", "continue"]) {
    out.append(button(verb, verb, () => act("POST", `${base}/${verb}`)));
  }
  if (["cleanup", "repair", "backup", "restore"].includes(plan.name)) {
    out.append(button("stop", "stop", () => {
      if (confirm(`Stop the ${plan.name} of ${cluster}? Work running on nodes is stopped.`))
        act("PUT", `/v1/clusters/${cluster}/${plan.name}/stop`);
    }));
  }
  return out;
}

function nodeActions(cluster, node) {
  const base = `/v1/clusters/${cluster}/nodes/${node.name}`;
  return el("span", { class: "actions" },
    button("restart", "restart", () => {
      if (confirm(`Restart ${node.name} in place (drain, stop, start on the same agent)?`))
        act("POST", `${base}/restart`);
    }),
    button("replace", "replace", () => {
      if (confirm(`Replace ${node.name} by a new node on another agent? Its data is streamed from the replicas.`))
        act("POST", `${base}/replace`);
    }),
  );
}

function table(headers, rows) {
  const t = el("table", {}, el("tr", {}, ...headers.map((h) => el("th", {}, h))));
  for (const row of rows) t.append(el("tr", {}, ...row.map((c) => el("td", {}, c))));
  return t;
}

async function renderHealth() {
  const h = await getJSON("/v1/health");
  document.getElementById("health").textContent =
    `${h.status} · ${h.leader ? "leader" : "standby"} · Mesos ${h.mesos} · ZooKeeper ${h.zookeeper}`;
}

async function renderClusters() {
  const names = await getJSON("/v1/clusters");
  const ul = document.getElementById("clusters");
  ul.replaceChildren(...(names.length ? [] : [el("li", { class: "muted" }, "none yet")]));
  if (selected === null && names.length) selected = names[0];
  if (selected !== null && !names.includes(selected)) selected = names[0] ?? null;
  for (const name of names) {
    const b = el("button", { "data-cluster": name, class: name === selected ? "selected" : "" }, name);
    b.addEventListener("click", () => { selected = name; refresh(); });
    ul.append(el("li", {}, b));
  }
}

async function renderCluster(name) {
  const c = await getJSON(`/v1/clusters/${name}`);
  document.getElementById("summary").replaceChildren(
    el("h2", {}, `Cluster ${c.name} `, badge(c.status)),
    el("p", { class: "muted" },
      `${c.nodes} node(s), ${c.nodes_running} running · config ${c.config_id} · ` +
      `${c.spec.data_center} · Cassandra ${c.spec.cassandra_version}`),
    clusterActions(c),
  );
  const plansSection = document.getElementById("plans");
  const parts = [el("h2", {}, "Plans")];
  for (const planName of Object.keys(c.plans)) {
    const p = await getJSON(`/v1/clusters/${name}/plans/${planName}`);
    const div = el("div", { "data-plan": p.name },
      el("h3", {}, `${p.name} `, badge(p.status), el("span", { class: "muted" }, ` ${p.strategy} `),
        planActions(name, p)));
    for (const err of p.errors) div.append(el("p", { class: "plan-error" }, err));
    for (const ph of p.phases) {
      div.append(el("p", {}, el("strong", {}, ph.name), " ", badge(ph.status),
        el("span", { class: "muted" }, ` ${ph.strategy}`)));
      div.append(table(["block", "status", "message"],
        ph.blocks.map((b) => [b.name, badge(b.status), b.message])));
    }
    parts.push(div);
  }
  plansSection.replaceChildren(...parts);
  const nodes = await getJSON(`/v1/clusters/${name}/nodes`);
  const waits = await getJSON(`/v1/clusters/${name}/offers`);
  document.getElementById("nodes").replaceChildren(
    el("h2", {}, "Nodes"),
    nodes.length
      ? table(["node", "state", "mode", "host", "CQL port", "task", ""],
          nodes.map((n) => [n.name, badge(n.state), badge(n.mode), n.hostname ?? "",
            n.ports.native_transport ?? "", n.task_id, nodeActions(name, n)]))
      : el("p", { class: "muted" }, "no node launched yet"),
    ...(waits.length
      ? [el("h3", {}, "Waiting for an offer"),
         table(["node", "waiting", "why the latest offers did not fit"],
           waits.map((w) => [w.node, `${Math.round(w.waiting_s)} s`,
             w.reasons.length ? el("ul", { class: "offer-reasons" }, ...w.reasons.map((r) => el("li", {}, r)))
                              : "no offer yet"]))]
      : []),
  );
}

async function refresh() {
  try {
    await renderHealth();
    await renderClusters();
    if (selected !== null) await renderCluster(selected);
    document.getElementById("error").textContent = "";
    document.getElementById("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    document.getElementById("error").textContent = `cannot read the API: ${e.message}`;
  }
}

function setupToken() {
  const input = document.getElementById("token");
  input.value = sessionStorage.getItem(TOKEN_KEY) || "";
  input.addEventListener("change", () => sessionStorage.setItem(TOKEN_KEY, input.value.trim()));
}

setupToken();
refresh();
setInterval(refresh, REFRESH_MS);
