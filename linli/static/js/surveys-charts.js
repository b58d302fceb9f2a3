/* Survey result charts (progressive: every chart has its data table beside it).
   Each <div class="chart" data-chart="ID"> is drawn from the JSON in
   <script type="application/json" id="ID">: {type: bar|stacked|line, categories, series}. */
(function () {
  "use strict";
  function draw(el) {
    var src = document.getElementById(el.getAttribute("data-chart"));
    if (!src || !window.echarts) { return; }
    var spec;
    try { spec = JSON.parse(src.textContent); } catch (e) { return; }
    if (!spec || !spec.categories) { return; }
    var horizontal = spec.type !== "line";
    var series = spec.series.map(function (s) {
      return {
        name: s.name, data: s.data, type: spec.type === "line" ? "line" : "bar",
        stack: spec.type === "stacked" ? "all" : undefined, connectNulls: true,
        label: spec.type === "bar" ? { show: true, position: "right" } : undefined
      };
    });
    var rows = spec.categories.length;
    el.classList.add("drawn");
    el.style.height = (spec.type === "line" ? 260 : Math.max(160, 36 * rows + 80)) + "px";
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    var cat = { type: "category", data: spec.categories, inverse: horizontal,
                axisLabel: { width: 90, overflow: "truncate" } };
    var val = { type: "value", max: spec.percent ? 100 : undefined, minInterval: spec.percent ? undefined : 1 };
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: spec.series.length > 1 ? { type: "scroll", bottom: 0 } : undefined,
      grid: { left: 8, right: 40, top: 10, bottom: spec.series.length > 1 ? 40 : 10, containLabel: true },
      xAxis: horizontal ? val : cat,
      yAxis: horizontal ? cat : val,
      series: series
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  function init() {
    var els = document.querySelectorAll(".chart[data-chart]");
    for (var i = 0; i < els.length; i++) { draw(els[i]); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
