// Start execution: the input is checked as JSON before it is sent (the server checks it
// again), and the error says where it is.
"use strict";
(function () {
  document.querySelectorAll("form[action='/console/start-execution']").forEach((form) => {
    const input = form.querySelector("textarea[name=input]");
    const note = form.querySelector(".input-error");
    if (!input) return;
    const check = () => {
      let message = "";
      if (input.value.trim() !== "") {
        try { JSON.parse(input.value); } catch (e) { message = "The input is not JSON: " + e.message; }
      }
      input.setCustomValidity(message);
      if (note) note.textContent = message;
      return message === "";
    };
    input.addEventListener("input", check);
    form.addEventListener("submit", (event) => {
      if (!check()) { event.preventDefault(); input.reportValidity(); }
    });
  });
})();
