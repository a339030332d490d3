// Uploads a clip to the API with a real progress bar, then opens the clip's page.
(function () {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const bar = document.getElementById("upload-progress");
  const status = document.getElementById("upload-status");
  const errors = document.getElementById("upload-errors");

  function showErrors(body) {
    const lines = [body.message || "The upload failed."];
    for (const [field, problems] of Object.entries(body.fields || {})) {
      lines.push(field + ": " + problems.join(" "));
    }
    errors.replaceChildren(...lines.map((line) => Object.assign(document.createElement("p"), { textContent: line })));
    errors.hidden = false;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    errors.hidden = true;
    const data = new FormData();
    const file = form.querySelector("[type=file]").files[0];
    if (!file) { showErrors({ message: "Choose a file to upload." }); return; }
    data.append("file", file);
    data.append("prompt", form.querySelector("[name$=prompt]").value);
    data.append("title", form.querySelector("[name$=title]").value);
    data.append("submit", form.querySelector("[name$=submit]").checked ? "true" : "false");

    const request = new XMLHttpRequest();
    request.open("POST", form.dataset.api);
    request.setRequestHeader("X-CSRFToken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    request.setRequestHeader("Accept", "application/json");
    bar.hidden = false;
    bar.value = 0;
    request.upload.addEventListener("progress", (progress) => {
      if (progress.lengthComputable) {
        bar.value = Math.round((progress.loaded / progress.total) * 100);
        status.textContent = "Uploading… " + bar.value + " %";
      }
    });
    request.addEventListener("load", () => {
      let body = {};
      try { body = JSON.parse(request.responseText); } catch (ignored) { /* not JSON */ }
      if (request.status === 201) {
        status.textContent = "Uploaded.";
        window.location.href = form.dataset.detail + body.id + "/";
      } else {
        status.textContent = "";
        showErrors(body);
      }
    });
    request.addEventListener("error", () => { status.textContent = ""; showErrors({ message: "The connection failed; try again." }); });
    status.textContent = "Uploading…";
    request.send(data);
  });
})();
