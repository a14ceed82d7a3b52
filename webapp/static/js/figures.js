// Live ratio preview on the figures form: the server computes the ratios with the scoring engine.
(function () {
  "use strict";
  var form = document.getElementById("figures-form");
  if (!form) { return; }
  var url = form.getAttribute("data-preview");
  var token = form.querySelector("input[name=csrf_token]");
  var table = document.getElementById("ratios");
  var warnings = document.getElementById("figure-warnings");
  var timer = null;

  function percent(r) {
    if (r.ratio === null) { return table.getAttribute("data-na") || "不适用（分母为 0）"; }
    return r.denominator ? (r.ratio * 100).toFixed(2) + "%" : r.ratio.toFixed(2);
  }

  function render(data) {
    var body = table.querySelector("tbody");
    while (body.firstChild) { body.removeChild(body.firstChild); }
    data.ratios.forEach(function (r) {
      var tr = document.createElement("tr");
      [r.criterion, r.numerator + (r.denominator ? " ÷ " + r.denominator : ""), percent(r)].forEach(function (text, i) {
        var td = document.createElement("td");
        td.textContent = text;
        if (i === 2) { td.className = "num"; }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    while (warnings.firstChild) { warnings.removeChild(warnings.firstChild); }
    var messages = [].concat.apply(data.warnings, Object.keys(data.errors).map(function (k) { return data.errors[k]; }));
    messages.forEach(function (m) {
      var p = document.createElement("p");
      p.textContent = m;
      warnings.appendChild(p);
    });
  }

  function refresh() {
    var payload = {};
    form.querySelectorAll("input[type=text], input:not([type])").forEach(function (input) {
      if (input.name && input.name !== "csrf_token") { payload[input.name] = input.value; }
    });
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": token ? token.value : ""},
      body: JSON.stringify(payload)
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) { if (data) { render(data); } });
  }

  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  });
}());
