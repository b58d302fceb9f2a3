/* Show "n/1000" under every textarea that has a maxlength (字数提示).
   Progressive enhancement: the maxlength attribute and the server's own check work
   without this script; it only lets people see the limit before they reach it. */
(function () {
  "use strict";
  function attach(area) {
    var max = parseInt(area.getAttribute("maxlength"), 10);
    if (!max || area.hasAttribute("data-counted")) { return; }
    area.setAttribute("data-counted", "");
    var out = document.createElement("small");
    out.className = "muted char-count";
    out.setAttribute("data-char-count", "");
    var update = function () {
      out.textContent = area.value.length + "/" + max;
    };
    update();
    area.addEventListener("input", update);
    area.insertAdjacentElement("afterend", out);
  }
  function run() {
    document.querySelectorAll("textarea[maxlength]").forEach(attach);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
})();
