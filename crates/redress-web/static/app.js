// redress — small progressive enhancements; every page works without this.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // A form is sent once: the button is disabled after the first submit
  // (the server also files a resent form only once).
  for (const form of document.querySelectorAll("form")) {
    form.addEventListener("submit", () => {
      for (const b of form.querySelectorAll("button[type=submit]")) {
        b.disabled = true;
      }
    });
  }
  // A canned reply fills its text area (without script the server uses it
  // when the message is left empty).
  for (const select of document.querySelectorAll("select[data-fills]")) {
    select.addEventListener("change", () => {
      const target = document.getElementById(select.dataset.fills);
      const text = select.selectedOptions[0]?.dataset.text;
      if (target && text) target.value = text;
    });
  }
  // A file over the limit is refused before anything is sent, so the
  // form and what was typed stay (the server checks again and answers
  // with the form kept).
  for (const input of document.querySelectorAll("input[type=file][data-max]")) {
    const check = () => {
      const max = Number(input.dataset.max);
      const big = Array.from(input.files || []).some((f) => f.size > max);
      const message = big ? input.dataset.tooLarge || "" : "";
      input.setCustomValidity(message);
      input.setAttribute("aria-invalid", big ? "true" : "false");
      const out = document.getElementById(input.id + "-size-error");
      if (out) {
        out.textContent = message;
        out.hidden = !big;
      }
      return !big;
    };
    input.addEventListener("change", check);
    input.form?.addEventListener("submit", (event) => {
      if (!check()) {
        event.preventDefault();
        event.stopImmediatePropagation();
        input.focus();
      }
    }, true);
  }
  // Focus the first field with an error, so a keyboard user lands on it.
  const bad = document.querySelector("[aria-invalid=true]");
  if (bad) bad.focus();
});
