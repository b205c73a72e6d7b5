// Live updates of an execution's page: new history events from the server's event
// stream (SSE; a reconnect resumes after the last event id it saw). Values are written
// as text, never as HTML.
"use strict";
(function () {
  const table = document.querySelector("table[data-live]");
  if (!table || !window.EventSource) return;
  const body = table.querySelector("tbody");
  const status = document.getElementById("status");
  const url = "/console/stream?arn=" + encodeURIComponent(table.dataset.arn) +
    "&from=" + encodeURIComponent(table.dataset.last || "0");
  const source = new EventSource(url);
  const cell = (row, text) => {
    const td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
    return td;
  };
  source.addEventListener("history", (message) => {
    const e = JSON.parse(message.data);
    if (document.getElementById("event-" + e.id)) return;
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
