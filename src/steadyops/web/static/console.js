// steadyops console: the few behaviours htmx does not cover. No framework, no build step.
(function () {
  "use strict";
  function csrf() {
    var h = document.body.getAttribute("hx-headers");
    try { return JSON.parse(h)["x-csrf-token"]; } catch (e) { return ""; }
  }
  // Live tables: a server-sent "changed" event makes the element fetch its own fragment again.
  function live() {
    document.querySelectorAll("[data-live-source]").forEach(function (el) {
      var src = new EventSource(el.getAttribute("data-live-source"));
      var status = document.querySelector("[data-testid=live-status]");
      var first = true;
      src.addEventListener("incidents", function () {
        if (status) { status.classList.add("on"); }
        if (first) { first = false; return; }
        htmx.ajax("GET", el.getAttribute("data-live-url"), { target: el, swap: "innerHTML" });
      });
      src.onerror = function () { if (status) { status.classList.remove("on"); } };
    });
  }
  // Chat: POST the question, read the SSE answer as it streams, show tool calls and citations.
  function chat() {
    var form = document.getElementById("chat-form");
    if (!form) { return; }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var q = form.querySelector("[name=question]").value.trim();
      if (!q) { return; }
      var log = document.getElementById("chat-log");
      var turn = document.createElement("div");
      turn.className = "turn";
      var ask = document.createElement("p"); ask.className = "q"; ask.textContent = q;
      var ans = document.createElement("div"); ans.className = "a pre"; ans.setAttribute("data-testid", "chat-answer");
      var tools = document.createElement("ul"); tools.className = "tools";
      var props = document.createElement("ul"); props.className = "proposals";
      turn.append(ask, tools, ans, props); log.prepend(turn);
      var body = new URLSearchParams({ question: q, csrf: csrf() });
      fetch("/chat/stream", { method: "POST", body: body, headers: { "x-csrf-token": csrf() } }).then(function (resp) {
        var reader = resp.body.getReader(); var dec = new TextDecoder(); var buf = "";
        function handle(block) {
          var ev = "message", data = "";
          block.split("\n").forEach(function (line) {
            if (line.indexOf("event: ") === 0) { ev = line.slice(7); }
            else if (line.indexOf("data: ") === 0) { data += line.slice(6); }
          });
          if (!data) { return; }
          var obj; try { obj = JSON.parse(data); } catch (e) { return; }
          if (ev === "delta") { ans.textContent += obj.text || ""; }
          else if (ev === "tool") {
            var li = document.createElement("li"); li.className = "tool";
            li.textContent = "🔧 " + (obj.name || "") + " " + JSON.stringify(obj.arguments || {}); tools.append(li);
          } else if (ev === "evidence") {
            var ci = document.createElement("li"); ci.className = "citation";
            ci.textContent = "📎 [" + (obj.id || "") + "] " + (obj.tool || "") + " · " + (obj.source || ""); tools.append(ci);
          } else if (ev === "proposal") {
            var p = document.createElement("li"); var a = document.createElement("a");
            a.href = obj.run_id ? "/actions/" + obj.run_id : "/approvals"; a.textContent = "⚙ " + (obj.action || "") + " → " + (obj.target || "");
            p.append(a); props.append(p);
          } else if (ev === "done") { turn.classList.add("done"); }
        }
        function pump() {
          return reader.read().then(function (r) {
            if (r.done) { if (buf) { handle(buf); } turn.classList.add("done"); return; }
            buf += dec.decode(r.value, { stream: true });
            var parts = buf.split("\n\n"); buf = parts.pop();
            parts.forEach(handle); return pump();
          });
        }
        return pump();
      });
      form.querySelector("[name=question]").value = "";
    });
  }
  document.addEventListener("DOMContentLoaded", function () { live(); chat(); });
})();
