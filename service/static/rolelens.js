// rolelens page script: posts the text to the API and draws the answer.
// Posting text only ever reaches the page through textContent, never as HTML.
"use strict";

(function () {
  const WORDS = { data_science: "data science", ml_engineering: "ML engineering" };
  const CSS = { data_science: "ds", ml_engineering: "ml" };
  const $ = (id) => document.getElementById(id);

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  // The sign of a weight only says which role it pushes toward; say the role instead.
  function describe(phrase) {
    return "weight " + Math.abs(phrase.weight).toFixed(2) + " toward " + WORDS[phrase.toward];
  }

  // Spans count code points (Python string offsets); JavaScript strings count UTF-16
  // units, so slice an array of code points.
  function highlight(text, phrases) {
    const chars = Array.from(text);
    const strongest = Math.max(1e-9, ...phrases.map((p) => Math.abs(p.weight)));
    const marks = [];
    for (const phrase of phrases) {
      for (const [start, end] of phrase.spans) marks.push({ start, end, phrase });
    }
    marks.sort((a, b) => a.start - b.start);
    const out = document.createDocumentFragment();
    let at = 0;
    for (const { start, end, phrase } of marks) {
      if (start < at) continue; // never happens: phrases do not overlap
      out.append(chars.slice(at, start).join(""));
      const mark = el("mark", chars.slice(start, end).join(""), "hl " + CSS[phrase.toward]);
      mark.title = describe(phrase);
      mark.tabIndex = 0; // the Teach panel picks a phrase on click or Enter
      mark.style.setProperty("--w", (Math.abs(phrase.weight) / strongest).toFixed(3));
      out.append(mark);
      at = end;
    }
    out.append(chars.slice(at).join(""));
    return out;
  }

  function phraseItems(list, phrases, none) {
    list.replaceChildren();
    if (!phrases.length) list.append(el("li", none, "help"));
    for (const phrase of phrases) {
      const item = el("li");
      const mark = el("mark", phrase.text, "hl " + CSS[phrase.toward]);
      mark.tabIndex = 0;
      item.append(mark, " ", el("span", describe(phrase), "weight"));
      list.append(item);
    }
  }

  function render(text, answer) {
    const pMl = answer.probability.ml_engineering;
    const leaning = $("leaning");
    const inWords = answer.leaning.charAt(0).toUpperCase() + answer.leaning.slice(1);
    const neither = answer.verdict === "neither";
    // A posting of neither role is headlined as such; its leaning is shown small beneath.
    leaning.textContent = neither ? "Not a data-science or ML-engineering posting" : inWords;
    leaning.className = neither ? "neither" : CSS[answer.label];
    const small = $("leaning-small");
    small.hidden = !neither;
    small.textContent = neither ? "Its words lean toward " + WORDS[answer.label] + ", weakly." : "";
    $("summary").textContent = "The call is " + answer.strength + ": probability of ML " +
      "engineering " + Math.round(pMl * 100) + "%, of data science " +
      Math.round((1 - pMl) * 100) + "%.";
    $("bar-fill").style.width = (pMl * 100).toFixed(1) + "%";
    $("bar").setAttribute("aria-label", "ML engineering " + Math.round(pMl * 100) + "%");
    const warning = $("warning");
    warning.hidden = !answer.evidence.warning;
    warning.textContent = answer.evidence.warning ? "Careful: " + answer.evidence.warning : "";
    $("highlighted").replaceChildren(
      highlight(text, answer.key_phrases.concat(answer.counter_phrases)));
    phraseItems($("key-phrases"), answer.key_phrases, "none");
    phraseItems($("counter-phrases"), answer.counter_phrases, "none");
    const similar = $("similar");
    similar.replaceChildren();
    for (const s of answer.similar_phrases) {
      const item = el("li");
      item.append(el("span", "“" + s.text + "”"), " ",
                  el("span", "(" + WORDS[s.label] + ", from " + s.source + ")", "source"));
      similar.append(item);
    }
    if (!answer.similar_phrases.length) similar.append(el("li", "none", "help"));
    $("model-version").textContent = answer.model_version;
    const result = $("result");
    result.hidden = false;
    // Bring the answer to the top of the window (on a laptop or a phone it starts below the
    // fold), then give its heading the focus so keyboard and screen-reader users land on it.
    const still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    result.scrollIntoView({ block: "start", behavior: still ? "auto" : "smooth" });
    leaning.focus({ preventScroll: true });
  }

  async function classify(form) {
    const text = $("posting").value;
    const error = $("error");
    const button = $("classify");
    error.hidden = true;
    if (!text.trim()) {
      error.textContent = "Paste a job posting first.";
      error.hidden = false;
      $("posting").focus();
      return;
    }
    button.disabled = true;
    $("status").textContent = "Classifying…";
    try {
      const response = await fetch(form.dataset.endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: JSON.stringify({ text }),
      });
      const answer = await response.json();
      if (!response.ok) throw new Error(answer.detail || response.statusText);
      $("status").textContent = "";
      render(text, answer);
    } catch (exc) {
      $("status").textContent = "";
      error.textContent = "Could not classify: " + exc.message;
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = $("classify-form");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      classify(form);
    });
    $("posting").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  });
})();
