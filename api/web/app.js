// The web control plane: reads the REST API every 2 s and renders clusters, plans and nodes.
"use strict";

const REFRESH_MS = 2000;
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
  );
  const plansSection = document.getElementById("plans");
  const parts = [el("h2", {}, "Plans")];
  for (const planName of Object.keys(c.plans)) {
    const p = await getJSON(`/v1/clusters/${name}/plans/${planName}`);
    const div = el("div", { "data-plan": p.name },
      el("h3", {}, `${p.name} `, badge(p.status), el("span", { class: "muted" }, ` ${p.strategy}`)));
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
  document.getElementById("nodes").replaceChildren(
    el("h2", {}, "Nodes"),
    nodes.length
      ? table(["node", "state", "mode", "host", "CQL port", "task"],
          nodes.map((n) => [n.name, badge(n.state), badge(n.mode), n.hostname ?? "",
            n.ports.native_transport ?? "", n.task_id]))
      : el("p", { class: "muted" }, "no node launched yet"),
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

refresh();
setInterval(refresh, REFRESH_MS);
