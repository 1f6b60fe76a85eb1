// "Copy" buttons for example code (progressive enhancement: the code stays selectable
// without JavaScript). A button names the element it copies with data-copy="ID" and says
// data-copied="…" for a moment once done; it stays hidden where the clipboard is not available.
(function () {
  "use strict";
  if (!navigator.clipboard || !window.isSecureContext) {
    return;
  }
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) {
      return;
    }
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.textContent).then(function () {
        button.textContent = button.getAttribute("data-copied") || label;
        window.setTimeout(function () {
          button.textContent = label;
        }, 2000);
      });
    });
  });
})();
