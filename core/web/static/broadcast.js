/* Thông báo: the composer's live recipient count and a broadcast's self-refreshing progress.
   Served from 'self' (CSP forbids inline scripts); the pages work without it. */
(function () {
  "use strict";
  var fmt = function (n) { return Number(n).toLocaleString("vi-VN"); };

  var form = document.getElementById("composer");
  if (form) {
    var timer = null, seq = 0;
    var countEl = document.getElementById("recipient-count");
    var noRouteEl = document.getElementById("noroute-count");
    var errEl = document.getElementById("count-error");
    var refresh = function () {
      var params = new URLSearchParams();
      new FormData(form).forEach(function (value, key) {
        if (["tinh", "nhom", "sao", "chude", "het_han"].indexOf(key) >= 0 && value) { params.append(key, value); }
      });
      var mine = ++seq;
      fetch(form.dataset.countUrl + "?" + params.toString(), {credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (data) {
          if (mine !== seq) { return; }
          if (data.errors) {
            errEl.textContent = Object.values(data.errors).join("; ");
            countEl.textContent = "…";
            return;
          }
          errEl.textContent = "";
          countEl.textContent = fmt(data.count);
          noRouteEl.textContent = fmt(data.no_route);
        })
        .catch(function () { errEl.textContent = "Chưa đếm được, thử lại sau."; });
    };
    var later = function (ev) {
      if (ev && ev.target && ["text", "luc"].indexOf(ev.target.name) >= 0) { return; }
      clearTimeout(timer);
      timer = setTimeout(refresh, 200);
    };
    form.addEventListener("change", later);
    form.addEventListener("input", later);
    refresh();
  }

  var box = document.querySelector("[data-progress-url]");
  if (box) {
    var delay = 1500;
    var poll = function () {
      fetch(box.dataset.progressUrl, {credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (p) {
          document.getElementById("progress-pct").textContent = p.percent + " %";
          document.getElementById("progress-done").textContent = fmt(p.done);
          document.getElementById("progress-bar").setAttribute("width", p.percent + "%");
          document.getElementById("status-label").textContent = p.status_label;
          if (p.finished) { window.location.reload(); return; }
          setTimeout(poll, p.status === "scheduled" ? 30000 : delay);   // a scheduled one: check now and then
        })
        .catch(function () { delay = Math.min(delay * 2, 30000); setTimeout(poll, delay); });
    };
    setTimeout(poll, delay);
  }
})();
