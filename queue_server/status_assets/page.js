// The citizen's ticket page: live by Server-Sent Events, long-poll as the fallback.
// Texts come from the page (the server's translation tables, both languages); this
// script only renders, reminds and sends the rating. docs/status-page.md.
"use strict";
(function () {
  var init = JSON.parse(document.getElementById("init").textContent);
  var T = init.texts;
  var base = location.pathname.replace(/\/+$/, "");
  var token = base.split("/").pop();
  var store = {
    get: function (k, d) { try { var v = localStorage.getItem(k); return v === null ? d : v; } catch (e) { return d; } },
    set: function (k, v) { try { localStorage.setItem(k, v); } catch (e) { /* private mode */ } }
  };
  var lang = store.get("lang", "zh");
  var large = store.get("large", "0") === "1";
  var view = init.view;
  var lastId = init.id;
  var lastHeard = Date.now();
  var offline = false;
  var es = null;
  var polling = false;
  var failures = 0;
  var audio = null;
  var picked = null;
  var pickedReason = null;
  var rateAnswer = null;
  var shown = null;  // the reminder on screen: "near" or "called"
  // what the page is doing, for a person debugging a phone (and the browser tests)
  window.__status = { updates: 0, reminders: [], transport: "", opens: 0, id: init.id,
                      repeats: 0 };  // repeats: states sent again with the id it had

  function t(key, args) {
    var pair = T[key];
    var s = pair ? pair[lang === "en" ? 1 : 0] : key;
    if (args) { for (var k in args) { s = s.split("{" + k + "}").join(String(args[k])); } }
    return s;
  }
  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function counterText(v) {
    return lang === "en" ? "window " + v.counter : v.counter + "号窗口";
  }

  // -- rendering ----------------------------------------------------------------------
  function render() {
    document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
    document.body.classList.toggle("large", large);
    $("lang").textContent = lang === "en" ? "中文" : "English";
    $("large").textContent = large ? t("status.normal") : t("status.large");
    var words = view[lang] || view.zh;
    $("number").textContent = view.number;
    var st = $("state");
    st.textContent = words.sentence;
    st.className = "state " + (view.css || "");
    st.setAttribute("data-state", view.state);
    var facts = $("facts");
    facts.textContent = "";
    words.facts.forEach(function (f) { facts.appendChild(el("li", "", f)); });
    facts.setAttribute("data-ahead", view.ahead === null ? "" : String(view.ahead));
    $("matters").textContent = view.matters ? t("status.matters") + (lang === "en" ? ": " : "：") + view.matters : "";
    if (shown) { $("reminder").textContent = reminderText(shown); }
    $("note").textContent = view.final ? t("status.final_note") : t("status.live_note");
    $("alerts").textContent = alertsOn() ? t("status.alerts_on") : t("status.enable_alerts");
    $("alerts").classList.toggle("hidden", view.final);
    renderOffline();
    renderRating();
  }

  function renderOffline() {
    var box = $("offline");
    box.classList.toggle("hidden", !offline);
    $("offline-text").textContent = view.reachable === false && !offline ? t("status.unavailable") : t("status.offline");
    if (view.reachable === false) { box.classList.remove("hidden"); }
    $("wifi").textContent = init.wifi ? t("status.offline_wifi", { wifi: init.wifi }) : "";
    var d = new Date(lastHeard);
    var hh = ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2) + ":" + ("0" + d.getSeconds()).slice(-2);
    $("last").textContent = t("status.last_update", { time: hh });
  }

  // -- rating ---------------------------------------------------------------------------
  function renderRating() {
    var box = $("rate");
    var open = view.rate && view.rate.open && !rateAnswer;
    var done = (view.rate && view.rate.done) || rateAnswer;
    box.textContent = "";
    box.classList.toggle("hidden", !open && !done);
    if (!open) {
      if (done) { box.appendChild(el("p", "", rateAnswer ? rateAnswer : t("status.rate_done"))); }
      return;
    }
    box.appendChild(el("h2", "", t("status.rate_title")));
    var levels = el("div", "levels");
    [5, 4, 3, 2, 1].forEach(function (n) {
      var b = el("button", picked === n ? "on" : "", t("status.level." + n));
      b.type = "button";
      b.setAttribute("data-level", String(n));
      b.onclick = function () { picked = n; if (n > 2) { pickedReason = null; } renderRating(); };
      levels.appendChild(b);
    });
    box.appendChild(levels);
    if (picked !== null && picked <= 2) {
      box.appendChild(el("p", "", t("status.rate_reason")));
      var rs = el("div", "reasons");
      init.reasons.forEach(function (pair) {
        var b = el("button", pickedReason === pair[0] ? "on" : "", lang === "en" ? pair[1] : pair[0]);
        b.type = "button";
        b.setAttribute("data-reason", pair[0]);
        b.onclick = function () { pickedReason = pair[0]; renderRating(); };
        rs.appendChild(b);
      });
      box.appendChild(rs);
    }
    if (picked !== null) {
      var text = el("textarea");
      text.id = "rate-text";
      text.maxLength = 300;
      text.rows = 2;
      text.placeholder = t("status.rate_text");
      box.appendChild(text);
      var send = el("button", "send", t("status.rate_send"));
      send.type = "button";
      send.id = "rate-send";
      send.onclick = sendRating;
      box.appendChild(send);
    }
    var msg = el("p", "small");
    msg.id = "rate-msg";
    box.appendChild(msg);
  }

  function sendRating() {
    if (picked <= 2 && !pickedReason) { $("rate-msg").textContent = t("status.rate_pick_reason"); return; }
    var body = { level: picked, reason: picked <= 2 ? pickedReason : null, text: ($("rate-text") || {}).value || null };
    fetch(base + "/rate", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (j) { return [r.status, j]; }); })
      .then(function (res) {
        var j = res[1];
        if (res[0] === 200 || res[0] === 409) {
          rateAnswer = lang === "en" ? j.en : j.zh;
          render();
        } else {
          $("rate-msg").textContent = (lang === "en" ? j.en : j.zh) || t("status.rate_failed");
        }
      })
      .catch(function () { $("rate-msg").textContent = t("status.rate_failed"); });
  }

  // -- reminders ------------------------------------------------------------------------
  function alertsOn() { return store.get("alerts", "0") === "1"; }
  function beep() {
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) { return false; }
      audio = audio || new Ctx();
      if (audio.state === "suspended") { audio.resume(); }
      [0, 0.35, 0.7].forEach(function (at) {
        var o = audio.createOscillator();
        var g = audio.createGain();
        o.frequency.value = 880;
        g.gain.value = 0.25;
        o.connect(g); g.connect(audio.destination);
        o.start(audio.currentTime + at);
        o.stop(audio.currentTime + at + 0.2);
      });
      return true;
    } catch (e) { return false; }
  }
  function reminderText(kind) {
    return kind === "near" ? t("status.remind_near", { n: view.ahead === null ? 0 : view.ahead })
      : t("status.remind_called", { counter: counterText(view) });
  }
  function remind(kind) {
    var text = reminderText(kind);
    var box = $("reminder");
    shown = kind;
    box.textContent = text;
    box.classList.remove("hidden");
    var done = { kind: kind, at: Date.now(), vibrate: false, sound: false, notification: false };
    try { done.vibrate = !!(navigator.vibrate && navigator.vibrate([400, 150, 400, 150, 400])); } catch (e) { /* none */ }
    done.sound = beep();
    try {
      if (window.Notification && Notification.permission === "granted") {
        new Notification(view.number, { body: text, tag: token + kind });
        done.notification = true;
      }
    } catch (e) { /* some browsers allow notifications only from a service worker */ }
    window.__status.reminders.push(done);
  }
  function checkReminders() {
    var key = "reminded." + token;
    var had = store.get(key, "");
    if (view.state === "waiting" && view.ahead !== null && view.ahead <= init.remind_ahead) {
      if (had.indexOf("near") < 0) {
        store.set(key, had + " near");
        remind("near");
      }
    } else if (view.state === "called") {
      var mark = "called" + view.counter + "." + view.calls;
      if (had.indexOf(mark) < 0) {
        store.set(key, had + " " + mark);
        remind("called");
      }
    } else if (view.state !== "waiting") {
      shown = null;
      $("reminder").classList.add("hidden");
    }
  }

  // -- the live connection ----------------------------------------------------------
  function apply(id, v) {
    lastHeard = Date.now();
    failures = 0;
    setOffline(false);
    if (id && v && id === lastId) { window.__status.repeats += 1; }
    if (id) { lastId = id; window.__status.id = id; }
    if (v) {
      view = v;
      window.__status.updates += 1;
      render();
      checkReminders();
    }
  }
  function setOffline(flag) {
    if (offline !== flag) { offline = flag; renderOffline(); }
  }
  function connect() {
    if (es) { es.close(); es = null; }
    if (!window.EventSource || failures > 4) { longPoll(); return; }
    window.__status.transport = "sse";
    es = new EventSource(base + "/events?last=" + encodeURIComponent(lastId));
    es.addEventListener("status", function (e) { apply(e.lastEventId, JSON.parse(e.data)); });
    es.addEventListener("ping", function (e) { apply(null, null); view.reachable = e.data === "1"; renderOffline(); });
    es.addEventListener("gone", function () { es.close(); es = null; location.reload(); });
    es.onopen = function () { window.__status.opens += 1; lastHeard = Date.now(); setOffline(false); };
    es.onerror = function () {
      failures += 1;
      if (es && es.readyState === 2) { es = null; setTimeout(connect, 1500); }
      setTimeout(function () { if (Date.now() - lastHeard > 3000) { setOffline(true); } }, 3100);
    };
  }
  function longPoll() {
    if (polling) { return; }
    polling = true;
    window.__status.transport = "poll";
    var again = function (ms) { polling = false; setTimeout(longPoll, ms); };
    fetch(base + "/poll?last=" + encodeURIComponent(lastId), { cache: "no-store" })
      .then(function (r) {
        if (r.status === 404) { location.reload(); return null; }
        if (!r.ok) { throw new Error(String(r.status)); }
        return r.json();
      })
      .then(function (j) { if (j) { apply(j.id, j.id !== lastId ? j.view : null); } again(0); })
      .catch(function () { setOffline(true); again(2000); });
  }
  // A phone that slept, or a stream the network dropped silently: reconnect.
  setInterval(function () {
    var quiet = Date.now() - lastHeard;
    if (quiet > 25000) { setOffline(true); if (es) { connect(); } }
  }, 2000);
  // A phone that wakes: a stream closed meanwhile, or quiet too long, starts again now
  // (with the last id: the server sends the state only if it moved on).
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && es &&
        (es.readyState === 2 || Date.now() - lastHeard > 12000)) { connect(); }
  });
  window.addEventListener("online", function () { if (es) { connect(); } });
  window.addEventListener("offline", function () { setOffline(true); });

  // -- buttons ----------------------------------------------------------------------------
  $("lang").onclick = function () { lang = lang === "en" ? "zh" : "en"; store.set("lang", lang); render(); };
  $("large").onclick = function () { large = !large; store.set("large", large ? "1" : "0"); render(); };
  $("alerts").onclick = function () {
    store.set("alerts", "1");
    beep();  // a tap unlocks the sound for later
    if (window.Notification && Notification.permission === "default") { Notification.requestPermission(); }
    render();
  };

  render();
  checkReminders();
  if (!view.final || (view.rate && view.rate.open)) { connect(); }
})();
