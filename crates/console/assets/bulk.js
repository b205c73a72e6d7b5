// The executions list's "select all" box: checks or clears every row's box. Progressive
// enhancement only: without this script the box stays hidden and the rows' boxes and the
// Stop / Redrive selected buttons work as they are.
"use strict";
(function () {
  const all = document.getElementById("select-all");
  if (!all) return;
  const boxes = () => Array.from(document.querySelectorAll('input[type="checkbox"][name="arn"]'));
  const sync = () => {
    const b = boxes();
    const checked = b.filter((x) => x.checked).length;
    all.checked = b.length > 0 && checked === b.length;
    all.indeterminate = checked > 0 && checked < b.length;
  };
  all.hidden = false;
  all.addEventListener("change", () => {
    for (const b of boxes()) b.checked = all.checked;
    sync();
  });
  document.addEventListener("change", (e) => {
    if (e.target instanceof HTMLInputElement && e.target.name === "arn") sync();
  });
  sync();
})();
