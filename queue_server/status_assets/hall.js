// The hall page: waiting counts and the wait for a new ticket per department, every 5 s.
"use strict";
(function () {
  function refresh() {
    fetch("/hall.json", { cache: "no-store" })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (j) {
        document.getElementById("offline").classList.add("hidden");
        var body = document.getElementById("rows");
        body.textContent = "";
        j.rows.forEach(function (row) {
          var tr = document.createElement("tr");
          tr.setAttribute("data-code", row.code);
          [["", row.name], ["n waiting", String(row.waiting)],
           ["wait", j.wait_text.zh[row.code] || "—"]].forEach(function (c) {
            var td = document.createElement("td");
            td.className = c[0];
            td.textContent = c[1];
            tr.appendChild(td);
          });
          body.appendChild(tr);
        });
      })
      .catch(function () { document.getElementById("offline").classList.remove("hidden"); });
  }
  setInterval(refresh, 5000);
})();
