/* Read a notice aloud with the browser's speech synthesis (长辈模式朗读).
   Progressive enhancement: the button stays hidden where speechSynthesis is missing,
   and the page works fully without this script. */
(function () {
  "use strict";
  if (!("speechSynthesis" in window) || typeof SpeechSynthesisUtterance === "undefined") {
    return;
  }
  document.querySelectorAll("[data-read-aloud]").forEach(function (button) {
    var target = document.getElementById(button.getAttribute("data-read-aloud"));
    if (!target) { return; }
    var startLabel = button.textContent;
    var stopLabel = button.getAttribute("data-label-stop") || startLabel;
    button.hidden = false;
    button.addEventListener("click", function () {
      if (window.speechSynthesis.speaking) {
        window.speechSynthesis.cancel();
        button.textContent = startLabel;
        return;
      }
      var u = new SpeechSynthesisUtterance(target.innerText);
      u.lang = "zh-CN";
      u.rate = 0.85;
      u.onend = function () { button.textContent = startLabel; };
      button.textContent = stopLabel;
      window.speechSynthesis.speak(u);
    });
  });
})();
