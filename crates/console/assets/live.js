// Live updates of an execution's page from the server's event stream (SSE; a reconnect
// resumes after the last event id it saw): new history rows, each state's colour on the
// graph, the table of visits (rows added and updated, the timeline re-scaled), and the
// final status. Values are written as text, never HTML.
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
  });
  const visits = document.querySelector("table.visits");
  const visitRow = (i, v) => {
    const row = document.createElement("tr");
    row.dataset.visitState = v.state;
    row.dataset.visitIndex = String(i);
    row.dataset.entered = String(v.entered);
    if (v.exited != null) row.dataset.exited = String(v.exited);
    const link = document.createElement("a");
    link.href = v.href;
    link.textContent = v.state;
    cell(row, "").appendChild(link);
    cell(row, v.type);
    const badge = document.createElement("span");
    badge.className = "step-status " + v.status;
    badge.textContent = v.status;
    cell(row, "").appendChild(badge);
    cell(row, v.started);
    cell(row, v.duration || "");
    cell(row, String(v.retries.length));
    const line = cell(row, "");
    line.className = "timeline";
    const bar = document.createElement("span");
    bar.className = "bar " + v.status;
    line.appendChild(bar);
    v.retries.forEach((at) => {
      const mark = document.createElement("span");
      mark.className = "retry";
      mark.title = "retry";
      mark.dataset.at = String(at);
      line.appendChild(mark);
    });
    return row;
  };
  // Bars and retry marks placed on a timeline from the start to the latest visit.
  const timeline = () => {
    const rows = visits.querySelectorAll("tbody tr");
    const start = Number(visits.dataset.start);
    let end = visits.dataset.stop ? Number(visits.dataset.stop) : start;
    rows.forEach((r) => {
      end = Math.max(end, Number(r.dataset.exited || r.dataset.entered));
    });
    const span = Math.max(end - start, 0.001);
    const pct = (t) => Math.min(100, Math.max(0, (t - start) / span * 100));
    rows.forEach((r) => {
      const left = pct(Number(r.dataset.entered));
      const right = pct(Number(r.dataset.exited || end));
      const bar = r.querySelector(".bar");
      if (bar) {
        bar.style.left = left.toFixed(2) + "%";
        bar.style.width = Math.max(right - left, 0.4).toFixed(2) + "%";
      }
      r.querySelectorAll(".retry").forEach((m) => {
        m.style.left = pct(Number(m.dataset.at)).toFixed(2) + "%";
      });
    });
  };
  source.addEventListener("visits", (message) => {
    if (!visits) return;
    const tbody = visits.querySelector("tbody");
    JSON.parse(message.data).rows.forEach(([i, v]) => {
      const row = visitRow(i, v);
      const old = tbody.querySelector('tr[data-visit-index="' + i + '"]');
      if (old) old.replaceWith(row); else tbody.appendChild(row);
    });
    const empty = document.getElementById("no-visits");
    if (empty) empty.hidden = true;
    visits.parentElement.hidden = false;
    timeline();
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
