// ferry web UI: local times, forms by fetch, live fragments and logs over server-sent
// events. The pages work without it (forms post and redirect); nothing here is needed
// to read them.
"use strict";
(function () {
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : "";

  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d)) { t.textContent = d.toLocaleString(); t.title = t.getAttribute("datetime"); }
    });
  }

  // ---- live logs ----
  function atBottom(el) { return el.scrollHeight - el.scrollTop - el.clientHeight < 40; }
  function connectLog(pre) {
    if (pre.dataset.connected || !pre.dataset.logSrc) return;
    pre.dataset.connected = "1";
    var es = new EventSource(pre.dataset.logSrc);
    es.onmessage = function (e) {
      var follow = atBottom(pre);
      pre.insertAdjacentHTML("beforeend", e.data);
      if (follow) pre.scrollTop = pre.scrollHeight;
    };
    es.addEventListener("end", function () { es.close(); pre.dataset.ended = "1"; });
  }
  function logs(root) {
    root.querySelectorAll("details.log").forEach(function (d) {
      var pre = d.querySelector("pre[data-log-src]");
      if (!pre) return;
      if (d.open) connectLog(pre);
      if (!d.dataset.bound) {
        d.dataset.bound = "1";
        d.addEventListener("toggle", function () { if (d.open) connectLog(pre); });
      }
    });
  }

  // ---- fragments ----
  // a text field of `root` that has the focus and holds typed text: a swap now would
  // throw the text away
  function typing(root) {
    var a = document.activeElement;
    return a && root.contains(a) && (a.tagName === "INPUT" || a.tagName === "TEXTAREA") && a.value;
  }
  function formKey(f) { return f.getAttribute("action") + " " + ((f.elements.token || {}).value || ""); }
  function swap(el, html) {
    if (!el.isConnected) return;
    if (typing(el)) {  // began typing while the fragment was on its way: wait for blur
      document.activeElement.addEventListener("blur", refreshAll, { once: true });
      return;
    }
    var t = document.createElement("template");
    t.innerHTML = html.trim();
    var fresh = t.content.firstElementChild;
    if (!fresh || fresh.id !== el.id) return;
    // keep log panes (their text and their stream) across the swap
    fresh.querySelectorAll("details.log[id]").forEach(function (d) {
      var old = document.getElementById(d.id);
      if (old && el.contains(old)) d.replaceWith(old);
    });
    // keep what was typed into a form, and a form's error, when the same form comes back;
    // an error whose form is gone (the approval was answered meanwhile) goes to the top
    var forms = {}, errors = [];
    fresh.querySelectorAll("form[action]").forEach(function (f) { forms[formKey(f)] = f; });
    el.querySelectorAll("form[action]").forEach(function (f) {
      var g = forms[formKey(f)], err = f.querySelector(".form-error");
      if (g) {
        f.querySelectorAll("input:not([type=hidden]), textarea").forEach(function (i) {
          var j = i.name && g.elements[i.name];
          if (j && i.value && (j.tagName === "TEXTAREA" || j.type === "text")) j.value = i.value;
        });
      }
      if (err) errors.push([g, err.textContent]);
    });
    el.replaceWith(fresh);
    errors.forEach(function (e) { if (e[0]) showError(e[0], e[1]); else notice(e[1]); });
    localTimes(fresh);
    logs(fresh);
    bindForms(fresh);
  }
  // changes are coalesced: at most one round of fetches in flight, and changes that
  // arrive meanwhile cost one more round when it is over, not one each (a busy daemon
  // with many tabs is not asked for more than it can answer)
  var pending = null, inflight = 0, again = false;
  function refreshAll() {
    if (inflight) { again = true; return; }
    if (pending) return;
    pending = setTimeout(function () {
      pending = null;
      document.querySelectorAll("[data-fragment]").forEach(function (el) {
        if (typing(el)) {  // not while typing
          document.activeElement.addEventListener("blur", refreshAll, { once: true });
          return;
        }
        inflight++;
        fetch(el.dataset.fragment, { headers: { "X-Ferry-Fetch": "1" }, credentials: "same-origin" })
          .then(function (r) { if (r.status === 401) location.reload(); return r.ok ? r.text() : null; })
          .then(function (html) { if (html !== null) swap(el, html); })
          .catch(function () {})
          .then(function () {
            if (--inflight === 0 && again) { again = false; refreshAll(); }
          });
      });
    }, 150);
  }
  // one event stream per page; the browser reconnects it after a dropped connection
  // (the "hello" then says whether anything changed meanwhile). When the daemon refuses
  // it (restarting, or the session ended: a redirect to /login is no event stream) the
  // browser gives up: this tries again, later and later, after a refresh, which reloads
  // the page when the session is gone (a fragment's 401) so that it shows the login
  function live() {
    if (!document.querySelector("[data-fragment]") || !window.EventSource) return;
    var h1 = document.querySelector("h1[data-pipeline]");
    var url = "/ui/events" + (h1 ? "?pipeline=" + encodeURIComponent(h1.dataset.pipeline) : "");
    var mark = document.querySelector('meta[name="ferry-state"]');
    var seen = mark ? mark.content : null, delay = 1000;
    function connect() {
      var es = new EventSource(url);
      es.addEventListener("hello", function (e) {
        delay = 1000;
        if (seen !== null && seen !== e.data) refreshAll();  // reconnected after changes
        seen = e.data;
      });
      es.addEventListener("change", function (e) { seen = e.lastEventId; refreshAll(); });
      es.addEventListener("error", function () {
        if (es.readyState !== EventSource.CLOSED) return;  // the browser retries itself
        setTimeout(function () { refreshAll(); connect(); }, delay);
        delay = Math.min(delay * 2, 30000);
      });
    }
    connect();
    window.addEventListener("pageshow", function (e) { if (e.persisted) refreshAll(); });
  }

  // ---- forms ----
  function notice(msg) {
    var p = document.getElementById("flash");
    if (!p) {
      p = document.createElement("p");
      p.id = "flash";
      p.className = "error";
      p.setAttribute("role", "alert");
      var main = document.querySelector("main");
      if (!main) return;
      main.insertBefore(p, main.firstChild);
    }
    p.textContent = msg;
  }
  function showError(form, msg) {
    if (!form.isConnected) { notice(msg); return; }  // the live page replaced the form
    var p = form.querySelector(".form-error");
    if (!p) {
      p = document.createElement("p");
      p.className = "form-error error";
      p.setAttribute("role", "alert");
      form.appendChild(p);
    }
    p.textContent = msg;
  }
  function bindForms(root) {
    root.querySelectorAll('form[method="post"][action^="/ui/"]').forEach(function (f) {
      if (f.dataset.bound) return;
      f.dataset.bound = "1";
      f.addEventListener("submit", function (e) {
        e.preventDefault();
        var body = new URLSearchParams(new FormData(f));
        if (e.submitter && e.submitter.name) body.set(e.submitter.name, e.submitter.value);
        var buttons = f.querySelectorAll("button");
        buttons.forEach(function (b) { b.disabled = true; });
        fetch(f.action, {
          method: "POST", body: body, credentials: "same-origin",
          headers: { "X-Ferry-Fetch": "1", "X-CSRF-Token": csrf }
        }).then(function (r) { return r.json().catch(function () { return { ok: false, error: "HTTP " + r.status }; }); })
          .then(function (j) {
            buttons.forEach(function (b) { b.disabled = false; });
            if (j.ok) { f.reset(); refreshAll(); } else showError(f, j.error || "the request failed");
          })
          .catch(function () { buttons.forEach(function (b) { b.disabled = false; }); showError(f, "ferry did not answer"); });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    logs(document);
    bindForms(document);
    live();
  });
})();
