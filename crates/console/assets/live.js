// Live updates of an execution's page from the server's event stream (SSE; a reconnect
// resumes after the last event id it saw): new history rows, each state's colour on the
// graph and in the table, and the final status. Values are written as text, never HTML.
"use strict";
(function () {
  const graph = document.querySelector("[data-live-graph]");
  const table = document.querySelector("table[data-live]");
  const anchor = graph || table;
  if (!anchor || !window.EventSource) return;
  const body = table ? table.querySelector("tbody") : null;
  const status = document.getElementById("status");
  let url = "/console/stream?arn=" + encodeURIComponent(anchor.dataset.arn) +
    "&from=" + encodeURIComponent(anchor.dataset.last || "0");
  if (graph && graph.dataset.it) url += "&it=" + encodeURIComponent(graph.dataset.it);
  const source = new EventSource(url);
  const tableFrom = table ? Number(table.dataset.last || "0") : 0;
  const cell = (row, text) => {
    const td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
    return td;
  };
  source.addEventListener("history", (message) => {
    const e = JSON.parse(message.data);
    if (!body || e.id <= tableFrom || document.getElementById("event-" + e.id)) return;
    const row = document.createElement("tr");
    row.id = "event-" + e.id;
    cell(row, String(e.id));
    cell(row, e.type);
    cell(row, e.name || "");
    const td = cell(row, "");
    if (e.key) {
      const details = document.createElement("details");
      const summary = document.createElement("summary");
      summary.textContent = e.key;
      const pre = document.createElement("pre");
      pre.textContent = e.details;
      details.append(summary, pre);
      td.appendChild(details);
    }
    body.appendChild(row);
  });
  source.addEventListener("status", (message) => {
    const changed = JSON.parse(message.data);
    document.querySelectorAll("[data-state]").forEach((node) => {
      const s = changed[node.dataset.state];
      if (s) node.dataset.status = s;
    });
    // The latest visit of each state in the table.
    const last = {};
    document.querySelectorAll("tr[data-visit-state]").forEach((row) => {
      last[row.dataset.visitState] = row;
    });
    Object.keys(changed).forEach((name) => {
      const row = last[name];
      const badge = row && row.querySelector(".step-status");
      if (badge) {
        badge.textContent = changed[name];
        badge.className = "step-status " + changed[name];
      }
    });
  });
  source.addEventListener("end", (message) => {
    source.close();
    if (status) {
      status.textContent = message.data;
      status.className = "status " + message.data;
    }
    // A finished execution cannot be stopped.
    document.querySelectorAll(".actions input[name=action][value=stop]")
      .forEach((input) => input.form.remove());
  });
})();
