// Keyboard shortcuts and touch swipes for the answer page. Every rule lives on the server;
// this only presses the matching button, once.
(function () {
  "use strict";
  const form = document.getElementById("answer-form");
  if (!form) return;
  let sent = false;
  function press(button) {
    if (!button || sent) return;
    sent = true;
    button.click();
  }
  form.addEventListener("submit", function () { sent = true; });
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const key = event.key.toLowerCase();
    for (const button of form.querySelectorAll("button[data-keys]")) {
      if (button.dataset.keys.split(" ").includes(key)) {
        event.preventDefault();
        press(button);
        return;
      }
    }
  });
  let startX = null, startY = null;
  document.addEventListener("touchstart", function (event) {
    startX = event.changedTouches[0].clientX;
    startY = event.changedTouches[0].clientY;
  }, { passive: true });
  document.addEventListener("touchend", function (event) {
    if (startX === null) return;
    const dx = event.changedTouches[0].clientX - startX;
    const dy = event.changedTouches[0].clientY - startY;
    startX = null;
    if (Math.abs(dx) < 60 || Math.abs(dx) < 2 * Math.abs(dy)) return;
    press(form.querySelector('button[data-swipe="' + (dx > 0 ? "right" : "left") + '"]'));
  }, { passive: true });
})();
