// Category suggestion on the report form (progressive: the page works without it —
// the server then asks on a confirmation step after submit). Buttons in the htmx
// partial set the category select.
(function () {
  "use strict";
  function show(root) {
    root.querySelectorAll("[data-pick-category]").forEach(function (b) { b.hidden = false; });
    root.querySelectorAll(".no-js-only").forEach(function (s) { s.hidden = true; });
  }
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("[data-pick-category]");
    if (!btn) return;
    var select = document.getElementById("id_category");
    if (!select) return;
    select.value = btn.getAttribute("data-pick-category");
    select.dispatchEvent(new Event("change", { bubbles: true }));
    var box = document.getElementById("insight-suggest");
    if (box) box.setAttribute("data-picked", select.value);
  });
  document.addEventListener("htmx:afterSwap", function (ev) {
    if (ev.target && ev.target.id === "insight-suggest") show(ev.target);
  });
})();
