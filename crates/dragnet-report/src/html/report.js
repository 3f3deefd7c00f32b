// dragnet report: search and level filter over the report's tables.
// Reads only text (textContent) and data-level attributes written by dragnet; writes only
// textContent, classes and the hidden property. Never builds markup from report content.
(function () {
  "use strict";
  var rank = { informational: 0, low: 1, medium: 2, high: 3, critical: 4 };
  var q = document.getElementById("q");
  var level = document.getElementById("level");
  var shown = document.getElementById("shown");
  if (!q || !level) { return; }
  var rows = Array.prototype.slice.call(document.querySelectorAll("table.filterable tbody tr"));
  var texts = rows.map(function (r) { return (r.textContent || "").toLowerCase(); });
  function apply() {
    var needle = q.value.trim().toLowerCase();
    var min = rank[level.value] || 0;
    var visible = 0;
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      var lv = r.getAttribute("data-level");
      var okLevel = lv === null || (rank[lv] !== undefined && rank[lv] >= min);
      var okText = needle === "" || texts[i].indexOf(needle) !== -1;
      r.hidden = !(okLevel && okText);
      if (!r.hidden) { visible++; }
    }
    if (shown) { shown.textContent = visible + " of " + rows.length + " rows shown"; }
  }
  q.addEventListener("input", apply);
  level.addEventListener("change", apply);
  var clear = document.getElementById("clear");
  if (clear) {
    clear.addEventListener("click", function () { q.value = ""; level.value = "informational"; apply(); });
  }
  apply();
})();
