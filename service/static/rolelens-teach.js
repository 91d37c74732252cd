// rolelens Teach panel: add a labeled phrase and retrain, with the admin token.
// The token lives in this tab's sessionStorage only: never a cookie, never in a URL.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const TOKEN_KEY = "rolelens.adminToken";
  const ROLE = { ds: "data_science", ml: "ml_engineering" };

  function say(text) {
    $("teach-error").hidden = true;
    $("teach-status").textContent = text;
  }

  function fail(text) {
    $("teach-status").textContent = "";
    const error = $("teach-error");
    error.textContent = text;
    error.hidden = false;
  }

  function token() {
    const value = $("admin-token").value.trim();
    if (!value) {
      fail("Enter the admin token first (the server's ROLELENS_ADMIN_TOKEN).");
      $("admin-token").focus();
    }
    return value;
  }

  // POST JSON with the bearer token; the answer, or an Error whose message is the detail.
  async function post(url, body, secret) {
    const response = await fetch(url, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Authorization": "Bearer " + secret,
      },
      body: JSON.stringify(body),
      credentials: "omit",
    });
    let answer = null;
    try {
      answer = await response.json();
    } catch (exc) {
      // no JSON body: the status says it
    }
    if (!response.ok) {
      const detail = answer && answer.detail ? answer.detail : response.statusText;
      throw new Error(detail + " (" + response.status + ")");
    }
    return answer;
  }

  // A highlighted phrase (or one in the key/counter lists) chosen with a click or Enter.
  function choose(mark) {
    $("teach-text").value = mark.textContent;
    for (const [css, label] of Object.entries(ROLE)) {
      if (mark.classList.contains(css)) {
        document.querySelector('#teach-form input[value="' + label + '"]').checked = true;
      }
    }
    say("Selected “" + mark.textContent + "”: check its role, then press Add phrase.");
    $("teach-text").focus();
  }

  async function addPhrase(form) {
    const text = $("teach-text").value.trim();
    const picked = form.querySelector('input[name="label"]:checked');
    if (!text) {
      fail("Type a phrase, or choose a highlighted one.");
      $("teach-text").focus();
      return;
    }
    if (!picked) {
      fail("Choose the role this phrase is a sign of.");
      form.querySelector('input[name="label"]').focus();
      return;
    }
    const secret = token();
    if (!secret) return;
    $("add-phrase").disabled = true;
    say("Adding…");
    try {
      const answer = await post(form.dataset.endpoint, { text, label: picked.value }, secret);
      say(answer.results.map((r) => r.message).join(" ") + " Retrain to use it.");
    } catch (exc) {
      fail("Could not add the phrase: " + exc.message);
    } finally {
      $("add-phrase").disabled = false;
    }
  }

  function figures(validation) {
    if (!validation) return "no validation figures";
    return "validation macro-F1 " + Number(validation.macro_f1).toFixed(3) +
      ", accuracy " + Number(validation.accuracy).toFixed(3);
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // Poll a retrain job until it ends; its last state.
  async function finished(href) {
    for (;;) {
      const response = await fetch(href, { headers: { "Accept": "application/json" } });
      const job = await response.json();
      if (!response.ok) throw new Error(job.detail || response.statusText);
      if (job.status !== "queued" && job.status !== "running") return job;
      say("Retraining (" + job.status + ")… this takes a while.");
      await sleep(1000);
    }
  }

  async function retrain(button) {
    const secret = token();
    if (!secret) return;
    button.disabled = true;
    say("Retraining… this takes a while.");
    try {
      const started = await post(button.dataset.endpoint, {}, secret);
      const job = await finished(started.href);
      if (job.status !== "promoted") {
        fail("Retrain did not promote a new version (" + job.status + "): " + job.detail);
        return;
      }
      const answer = job.result;
      let text = "Now serving version " + answer.version + ": " + figures(answer.validation) + ".";
      if (answer.previous) {
        text += " Before: " + answer.previous + ", " + figures(answer.previous_validation) + ".";
      }
      say(text);
    } catch (exc) {
      fail("Retrain did not promote a new version: " + exc.message);
    } finally {
      button.disabled = false;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = $("teach-form");
    const secret = $("admin-token");
    secret.value = sessionStorage.getItem(TOKEN_KEY) || "";
    secret.addEventListener("input", () => sessionStorage.setItem(TOKEN_KEY, secret.value));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      addPhrase(form);
    });
    $("retrain").addEventListener("click", (event) => retrain(event.currentTarget));
    const result = $("result");
    result.addEventListener("click", (event) => {
      const mark = event.target.closest("mark.hl[tabindex]");
      if (mark) choose(mark);
    });
    result.addEventListener("keydown", (event) => {
      const mark = event.target.closest("mark.hl[tabindex]");
      if (mark && (event.key === "Enter" || event.key === " ")) {
        event.preventDefault();
        choose(mark);
      }
    });
  });
})();
