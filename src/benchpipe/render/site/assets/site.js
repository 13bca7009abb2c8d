// benchpipe dashboard: search, filters, sorting and the "moved" view on the index; point details on a
// benchmark's chart. Text from the data only ever goes through textContent, never into markup.
"use strict";
(function () {
  function $(id) { return document.getElementById(id); }

  function indexPage(table) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var q = $("q"), shown = $("shown"), moved = $("moved"), within = $("within");
    var filters = ["module", "package", "branch"].map(function (k) { return [k, $("f-" + k)]; });
    var unit = $("f-unit");
    function apply() {
      var text = q.value.trim().toLowerCase();
      var n = 0, limit = parseInt(within.value, 10) || 0;
      rows.forEach(function (r) {
        var ok = !text || r.dataset.search.indexOf(text) >= 0;
        filters.forEach(function (f) { if (ok && f[1].value && r.dataset[f[0]] !== f[1].value) { ok = false; } });
        if (ok && unit.value && r.dataset.units.split(" ").indexOf(unit.value) < 0) { ok = false; }
        if (ok && moved.checked) {
          var since = r.dataset.since === "" ? Infinity : parseInt(r.dataset.since, 10);
          ok = since < limit;
        }
        r.hidden = !ok;
        if (ok) { n += 1; }
      });
      shown.textContent = n + " of " + rows.length + " shown";
    }
    [q, moved, within, unit].concat(filters.map(function (f) { return f[1]; })).forEach(function (el) {
      el.addEventListener("input", apply);
      el.addEventListener("change", apply);
    });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      var b = th.querySelector("button");
      if (!b) { return; }
      b.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var numeric = th.dataset.type === "num";
        rows.sort(function (a, c) {
          var x = a.cells[col].dataset.v, y = c.cells[col].dataset.v;
          if (numeric) {
            x = x === "" ? (asc ? Infinity : -Infinity) : parseFloat(x);
            y = y === "" ? (asc ? Infinity : -Infinity) : parseFloat(y);
            return asc ? x - y : y - x;
          }
          return asc ? x.localeCompare(y) : y.localeCompare(x);
        });
        var frag = document.createDocumentFragment();
        rows.forEach(function (r) { frag.appendChild(r); });
        body.appendChild(frag);
      });
    });
    apply();
    document.documentElement.dataset.ready = "1";
  }

  function chartPage(svg) {
    var tip = $("tip");
    function show(e) {
      var label = e.target.getAttribute && e.target.getAttribute("aria-label");
      if (e.target.tagName === "circle" && label) { tip.textContent = label; }
    }
    svg.addEventListener("mouseover", show);
    svg.addEventListener("focusin", show);
    document.documentElement.dataset.ready = "1";
  }

  var table = $("benchmarks"), svg = $("chart");
  if (table) { indexPage(table); } else if (svg) { chartPage(svg); } else { document.documentElement.dataset.ready = "1"; }
})();
