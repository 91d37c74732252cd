// rolelens CSV panel: uploads a CSV file to the batch endpoint and offers the classified CSV
// for download. XMLHttpRequest rather than fetch, because only it reports upload progress.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  let objectUrl = null;

  // The filename the server chose, from Content-Disposition.
  function filenameOf(xhr, fallback) {
    const found = /filename="([^"]+)"/.exec(xhr.getResponseHeader("Content-Disposition") || "");
    return found ? found[1] : fallback;
  }

  // A problem+json detail in words, or the status text.
  async function problemText(xhr) {
    try {
      const problem = JSON.parse(await xhr.response.text());
      if (problem.detail) return problem.detail;
    } catch (exc) {
      // not problem+json: fall back to the status
    }
    return "the server answered " + xhr.status + " " + xhr.statusText;
  }

  function kilobytes(bytes) {
    return bytes < 1024 * 1024 ? Math.round(bytes / 1024) + " kB"
      : (bytes / 1024 / 1024).toFixed(1) + " MB";
  }

  function upload(form) {
    const file = $("csv-file").files[0];
    const status = $("csv-status");
    const error = $("csv-error");
    const progress = $("csv-progress");
    const button = $("csv-upload");
    const link = $("csv-download");
    error.hidden = true;
    link.hidden = true;
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = null;
    if (!file) {
      error.textContent = "Choose a CSV file first.";
      error.hidden = false;
      $("csv-file").focus();
      return;
    }
    const body = new FormData();
    body.append("file", file, file.name);
    const xhr = new XMLHttpRequest();
    const column = $("csv-text-column").value.trim();
    const query = column ? "?" + new URLSearchParams({ text_column: column }) : "";
    xhr.open("POST", form.dataset.endpoint + query);
    xhr.setRequestHeader("Accept", "text/csv");
    xhr.responseType = "blob";
    button.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    status.textContent = "Uploading " + file.name + "…";
    xhr.upload.addEventListener("progress", (event) => {
      if (!event.lengthComputable || !event.total) return;
      progress.value = Math.round((event.loaded / event.total) * 100);
      status.textContent = "Uploading " + file.name + ": " + progress.value + "%";
    });
    xhr.upload.addEventListener("load", () => {
      progress.removeAttribute("value"); // indeterminate while the server works
      status.textContent = "Classifying…";
    });
    xhr.addEventListener("progress", (event) => {
      if (xhr.status === 200) status.textContent = "Classifying… " + kilobytes(event.loaded) +
        " of results received";
    });
    xhr.addEventListener("load", async () => {
      button.disabled = false;
      progress.hidden = true;
      if (xhr.status !== 200) {
        status.textContent = "";
        error.textContent = "Could not classify the file: " + await problemText(xhr);
        error.hidden = false;
        return;
      }
      objectUrl = URL.createObjectURL(new Blob([xhr.response], { type: "text/csv" }));
      link.href = objectUrl;
      link.download = filenameOf(xhr, "rolelens-classified.csv");
      link.textContent = "Download " + link.download;
      link.hidden = false;
      status.textContent = "Done: " + file.name + " is classified.";
      link.focus();
    });
    xhr.addEventListener("error", () => {
      button.disabled = false;
      progress.hidden = true;
      status.textContent = "";
      error.textContent = "Could not reach the server; check the connection and try again.";
      error.hidden = false;
    });
    xhr.send(body);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = $("csv-form");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      upload(form);
    });
  });
})();
