// The hall page: waiting counts and the wait for a new ticket per department, every
// 5 s, in Chinese or English (the button; the choice is kept like the ticket page's).
// Texts come from the page (the server's translation tables, both languages).
"use strict";
(function () {
  var init = JSON.parse(document.getElementById("init").textContent);
  var T = init.texts;
  var store = {
    get: function (k, d) { try { var v = localStorage.getItem(k); return v === null ? d : v; } catch (e) { return d; } },
    set: function (k, v) { try { localStorage.setItem(k, v); } catch (e) { /* private mode */ } }
  };
  var lang = store.get("lang", "zh");
  var last = null;
  function $(id) { return document.getElementById(id); }
  function t(key) { var pair = T[key]; return pair ? pair[lang === "en" ? 1 : 0] : key; }
  function words() {
    document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
    $("lang").textContent = lang === "en" ? "中文" : "English";
    $("hall").textContent = init.hall[lang === "en" ? 1 : 0];
    document.title = init.hall[lang === "en" ? 1 : 0];
    $("h-dept").textContent = t("status.hall_department");
    $("h-waiting").textContent = t("status.hall_waiting");
    $("h-wait").textContent = t("status.hall_wait");
    $("note").textContent = t("status.hall_note");
    $("offline").textContent = t("status.offline");
  }
  function rows(j) {
    var body = $("rows");
    body.textContent = "";
    j.rows.forEach(function (row) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-code", row.code);
      [["", lang === "en" ? (row.name_en || row.name) : row.name],
       ["n waiting", String(row.waiting)],
       ["wait", j.wait_text[lang === "en" ? "en" : "zh"][row.code] || "—"]].forEach(function (c) {
        var td = document.createElement("td");
        td.className = c[0];
        td.textContent = c[1];
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }
  function refresh() {
    fetch("/hall.json", { cache: "no-store" })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (j) { $("offline").classList.add("hidden"); last = j; rows(j); })
      .catch(function () { $("offline").classList.remove("hidden"); });
  }
  $("lang").addEventListener("click", function () {
    lang = lang === "en" ? "zh" : "en";
    store.set("lang", lang);
    words();
    if (last) { rows(last); } else { refresh(); }
  });
  words();
  refresh();
  setInterval(refresh, 5000);
})();
