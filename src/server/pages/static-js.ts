/**
 * The one script (served at /static/app.js): plain browser JavaScript, no build step. It only
 * ever writes registry data into the page with textContent, never as markup.
 */
export const APP_JS = `"use strict";
(function () {
  var TOKEN_KEY = "replay-runner-token";
  var body = document.body;
  var STEP_WORDS = { reproduced: ["reproduced", "ok"], verified: ["verified", "ok"], mismatch: ["mismatch", "bad"], failed: ["failed", "bad"],
    unreplayable: ["unreplayable", "warn"], interrupted: ["interrupted", "warn"], pending: ["waiting", "muted"] };
  var REPLAY_WORDS = { queued: ["queued", "muted"], running: ["running", "info"], finished: ["finished", "muted"],
    failed: ["could not run", "bad"], interrupted: ["interrupted", "warn"] };

  function badge(words) {
    var span = document.createElement("span");
    span.className = "badge " + words[1];
    span.textContent = words[0];
    return span;
  }

  function storedToken() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch (e) { return ""; }
  }
  function storeToken(token) {
    try { if (token) sessionStorage.setItem(TOKEN_KEY, token); } catch (e) { /* private mode */ }
  }
  function authHeaders(input) {
    var headers = {};
    var token = input && input.value ? input.value : storedToken();
    if (token) headers["Authorization"] = "Bearer " + token;
    return headers;
  }
  function problemText(response, data) {
    if (data && data.detail) return data.detail + (data.hint ? " " + data.hint : "");
    return "The server answered " + response.status + ".";
  }

  // Copy buttons next to shortened hashes.
  document.addEventListener("click", function (event) {
    var button = event.target && event.target.closest ? event.target.closest("button.copy") : null;
    if (!button) return;
    var value = button.getAttribute("data-copy") || "";
    var done = function () { button.classList.add("copied"); button.textContent = "copied"; setTimeout(function () { button.classList.remove("copied"); button.textContent = "copy"; }, 1200); };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(value).then(done, function () { fallbackCopy(value); done(); });
    } else { fallbackCopy(value); done(); }
  });
  function fallbackCopy(value) {
    var area = document.createElement("textarea");
    area.value = value;
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing more to try */ }
    area.remove();
  }

  // Artifact page: the Rerun form.
  var form = document.getElementById("rerun-form");
  if (form) {
    var tokenInput = document.getElementById("rerun-token");
    if (tokenInput) tokenInput.value = storedToken();
    var message = document.getElementById("rerun-message");
    var button = document.getElementById("rerun-button");
    var key = null;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var payload = { strict: document.getElementById("rerun-strict").checked, diff: document.getElementById("rerun-diff").checked, triage: document.getElementById("rerun-triage").checked };
      var from = document.getElementById("rerun-from").value;
      if (from) payload.from = from;
      // One key per intent: a double click or a retry after a network error queues one replay.
      var intent = JSON.stringify(payload);
      if (!key || key.intent !== intent) key = { intent: intent, value: (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()) };
      var headers = authHeaders(tokenInput);
      headers["Content-Type"] = "application/json";
      headers["Idempotency-Key"] = key.value;
      button.disabled = true;
      message.className = "message";
      message.textContent = "Queuing the replay…";
      fetch("/api/artifacts/" + encodeURIComponent(form.getAttribute("data-artifact")) + "/rerun", {
        method: "POST", headers: headers, body: JSON.stringify(payload)
      }).then(function (response) {
        return response.json().catch(function () { return null; }).then(function (data) {
          if (response.status === 202 && data && data.replay_id) {
            if (tokenInput) storeToken(tokenInput.value);
            window.location.href = "/replays/" + encodeURIComponent(data.replay_id);
            return;
          }
          button.disabled = false;
          message.className = "message error";
          message.textContent = response.status === 401 ? "The API token is missing or wrong. " + problemText(response, data) : problemText(response, data);
          if (response.status === 401 && tokenInput) tokenInput.focus();
        });
      }).catch(function (error) {
        button.disabled = false;
        message.className = "message error";
        message.textContent = "Could not reach the server: " + error.message;
      });
    });
  }

  // Replay page: live progress while it runs, and the Cancel button.
  var replayId = body.getAttribute("data-replay");
  if (replayId && body.getAttribute("data-live") === "true") {
    var statusBox = document.getElementById("replay-status");
    var table = document.getElementById("progress-table");
    var poll = function () {
      fetch("/api/replays/" + encodeURIComponent(replayId), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) return;
          if (data.status !== "queued" && data.status !== "running") { window.location.reload(); return; }
          if (statusBox) { statusBox.textContent = ""; statusBox.appendChild(badge(REPLAY_WORDS[data.status] || [data.status, "muted"])); }
          if (table) renderProgress(table, data);
        })
        .catch(function () { /* the next poll tries again */ })
        .finally(function () { setTimeout(poll, 1000); });
    };
    setTimeout(poll, 500);
    var cancel = document.getElementById("cancel-button");
    if (cancel) {
      var cancelToken = document.getElementById("cancel-token");
      if (cancelToken) cancelToken.value = storedToken();
      cancel.addEventListener("click", function () {
        var note = document.getElementById("cancel-message");
        cancel.disabled = true;
        fetch("/api/replays/" + encodeURIComponent(replayId), { method: "DELETE", headers: authHeaders(cancelToken) })
          .then(function (r) { return r.json().catch(function () { return null; }).then(function (data) {
            if (r.ok) { note.className = "message"; note.textContent = "Cancelling: its containers are being removed…"; if (cancelToken) storeToken(cancelToken.value); return; }
            cancel.disabled = false; note.className = "message error"; note.textContent = problemText(r, data);
          }); })
          .catch(function (error) { cancel.disabled = false; note.className = "message error"; note.textContent = error.message; });
      });
    }
  }

  function renderProgress(table, data) {
    var done = {};
    (data.progress || []).forEach(function (p) { done[p.step_id] = p; });
    var steps = (data.plan && data.plan.length) ? data.plan : (data.progress || []);
    if (!steps.length) return;
    var tbody = document.createElement("tbody");
    steps.forEach(function (s) {
      var p = done[s.step_id];
      var tr = document.createElement("tr");
      tr.setAttribute("data-step", s.step_id);
      var id = document.createElement("td"); var code = document.createElement("code"); code.textContent = s.step_id; id.appendChild(code);
      var type = document.createElement("td"); type.textContent = s.step_type;
      var verdict = document.createElement("td"); verdict.className = "verdict";
      verdict.appendChild(badge(STEP_WORDS[p ? p.status : "pending"] || [p.status, "muted"]));
      var duration = document.createElement("td"); duration.className = "duration";
      duration.textContent = p ? (p.duration_ms < 1000 ? p.duration_ms + " ms" : (p.duration_ms / 1000).toFixed(1) + " s") : "—";
      [id, type, verdict, duration].forEach(function (td) { tr.appendChild(td); });
      tbody.appendChild(tr);
    });
    table.replaceChild(tbody, table.tBodies[0]);
  }
})();
`;
