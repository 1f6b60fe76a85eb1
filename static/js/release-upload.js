// Release upload: follow the upload, then the check, without leaving the page (issue #15.4).
//
// Progressive enhancement over the plain form: without this script the form posts as usual and
// the browser lands on the upload's page, which refreshes itself until the check ends. With it,
// the form is sent with XMLHttpRequest so the "Sending the file" bar follows the upload; the
// answer is that same page, whose data-status-url this script then polls for the rows checked
// and the problems found, and once the check ends it opens the page with the result.
(function () {
  "use strict";

  var POLL_MS = 1000;

  function start(form) {
    var panel = document.getElementById("release-upload-progress");
    if (!panel || !window.FormData || !window.fetch) {
      return;
    }
    var uploadBar = panel.querySelector("#upload-bar");
    var checkBar = panel.querySelector("#check-bar");
    var text = panel.querySelector("[data-progress-text]");
    var button = form.querySelector("button[type=submit]");

    function say(message) {
      text.textContent = message;
    }

    function poll(statusUrl) {
      fetch(statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error(String(response.status));
          }
          return response.json();
        })
        .then(function (status) {
          if (status.rows_total && status.rows_checked) {
            checkBar.max = status.rows_total;
            checkBar.value = status.rows_checked;
          }
          say(status.summary);
          if (status.finished) {
            window.location.assign(status.url);
          } else {
            window.setTimeout(poll, POLL_MS, statusUrl);
          }
        })
        .catch(function () {
          // The page itself refreshes until the end: let it take over.
          window.location.assign(statusUrl.replace(/status\/$/, ""));
        });
    }

    function answered(request) {
      var page = request.response;
      var job = page && page.querySelector("[data-status-url]");
      if (job) {
        uploadBar.value = uploadBar.max;
        say(form.dataset.sent);
        poll(job.getAttribute("data-status-url"));
        return;
      }
      // The form again with what was wrong, or an error page: show it as the server sent it.
      var main = page && page.querySelector("main");
      var here = document.querySelector("main");
      if (main && here) {
        here.replaceWith(document.importNode(main, true));
        bind();
        var summary = document.querySelector(".error-summary");
        if (summary) {
          summary.focus();
        }
      } else {
        window.location.assign(request.responseURL || window.location.href);
      }
    }

    form.addEventListener("submit", function (event) {
      var input = form.querySelector("input[type=file]");
      var file = input && input.files && input.files[0];
      if (!file || file.size > Number(form.dataset.maxBytes)) {
        // No file, or one over the limit: the plain post gets the server's own answer (the
        // form's "required", or the 413 page naming the limit) at once.
        return;
      }
      event.preventDefault();
      var request = new XMLHttpRequest();
      request.open("POST", form.action || window.location.href);
      request.responseType = "document";
      request.upload.addEventListener("progress", function (progress) {
        if (progress.lengthComputable) {
          uploadBar.max = progress.total;
          uploadBar.value = progress.loaded;
        }
      });
      request.addEventListener("load", function () {
        answered(request);
      });
      request.addEventListener("error", function () {
        say(form.dataset.sendFailed);
        button.disabled = false;
      });
      panel.hidden = false;
      button.disabled = true;
      say(form.dataset.sending);
      request.send(new FormData(form));
    });
  }

  function bind() {
    var form = document.querySelector("form[data-release-upload]");
    if (form) {
      start(form);
    }
  }

  bind();
})();
