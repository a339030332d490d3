// The moderators' page: claims the next item from the review API, shows it, decides it by
// button or keyboard, and keeps the claim's lease alive while the page is open.
(function () {
  const root = document.getElementById("review");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const csrf = root.querySelector("[name=csrfmiddlewaretoken]").value;
  const urls = root.dataset;
  const el = {
    figures: $("queue-figures"), lease: $("lease"), leaseLeft: $("lease-left"),
    status: $("review-status"), errors: $("review-errors"),
    idle: $("review-idle"), idleHeading: $("idle-heading"), idleMessage: $("idle-message"),
    start: $("start"),
    lost: $("review-lost"), lostMessage: $("lost-message"), claimAfterLoss: $("claim-after-loss"),
    item: $("review-item"), heading: $("item-heading"), track: $("track"), trackHelp: $("track-help"),
    appealBox: $("appeal-box"), appealMessage: $("appeal-message"),
    previousBox: $("previous-box"), previous: $("previous-decision"), previousNote: $("previous-note"),
    prompt: $("prompt"), facts: $("facts"), history: $("history"),
    video: $("review-video"), noVideo: $("no-video"), sheet: $("review-sheet"), sheetLink: $("sheet-link"),
    sheetBox: $("sheet-box"),
    reasons: $("reasons"), reasonList: $("reason-list"), reasonsError: $("reasons-error"),
    note: $("note-to-tester"), internal: $("internal-note"), actions: $("review-actions"),
  };

  const TRACKS = {
    primary: ["First review", ""],
    appeal: ["Appeal", "The tester appealed a rejection that another moderator made."],
    escalation: ["Escalation", "A moderator sent this clip to the program admins."],
    second_opinion: ["Second opinion", "Blind: the first decision is hidden, and yours is " +
      "recorded for comparison only; it does not change the clip's outcome."],
  };
  // The outcomes each track allows, from the server (review.services.decisions.OUTCOMES):
  // escalations are the program admins' last word, second opinions are never escalated.
  const OUTCOMES = JSON.parse(urls.outcomes);
  const allows = (track, outcome) => (OUTCOMES[track] || []).includes(outcome);
  const DONE = { approve: "Approved.", reject: "Rejected.", escalate: "Escalated to the program admins." };
  const RENEW_RETRY_MS = 5000;

  let reasons = [];      // [{code, label, description, canned_response}], in taxonomy order
  let claim = null;      // the claim answer while an item is ours
  let deadline = 0;      // performance.now() at which the lease runs out
  let leaseMs = 0;       // the lease's length as granted
  let renewing = false;
  let lastRenewal = -Infinity;
  let busy = false;
  let autoNote = "";     // the note to the tester as the reasons last wrote it
  let releasedOnHide = false;

  class ApiError extends Error {
    constructor(status, body) {
      super(body.message || "The request failed.");
      this.status = status;
      this.code = body.code || "";
      this.fields = body.fields || {};
    }
  }

  async function api(method, url, body, keepalive) {
    const headers = { Accept: "application/json", "X-CSRFToken": csrf };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(url, {
        method, headers, credentials: "same-origin", keepalive: Boolean(keepalive),
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (failure) {
      throw new ApiError(0, { code: "network", message: "The connection failed; check it and try again." });
    }
    let data = null;
    if (response.status !== 204) {
      try { data = await response.json(); } catch (ignored) { /* not JSON */ }
    }
    if (!response.ok) {
      throw new ApiError(response.status, data || { message: "The server answered " + response.status + "; try again." });
    }
    return { status: response.status, data, serverNow: Date.parse(response.headers.get("Date") || "") };
  }

  const claimUrl = (template, id) => template.replace(urls.placeholder, id);

  // --- Messages ---------------------------------------------------------------------------

  function say(text) { el.status.textContent = text; }

  function showError(error) {
    const lines = [error.message];
    for (const [field, problems] of Object.entries(error.fields || {})) {
      lines.push(field.replace(/_/g, " ") + ": " + problems.join(" "));
    }
    el.errors.replaceChildren(...lines.map((line) => Object.assign(document.createElement("p"), { textContent: line })));
    el.errors.hidden = false;
  }

  function clearErrors() {
    el.errors.hidden = true;
    el.errors.replaceChildren();
    el.reasonsError.hidden = true;
    el.reasonsError.textContent = "";
    el.reasons.classList.remove("has-error");
  }

  function reasonsError(text) {
    el.reasonsError.textContent = text;
    el.reasonsError.hidden = false;
    el.reasons.classList.add("has-error");
    say(text);
    const first = el.reasonList.querySelector("input");
    if (first) first.focus();
  }

  function setBusy(value) {
    busy = value;
    root.setAttribute("aria-busy", String(value));
    for (const button of root.querySelectorAll("#review-actions button, #start, #claim-after-loss")) {
      button.disabled = value;
    }
  }

  // --- Formatting -------------------------------------------------------------------------

  function mmss(ms) {
    const seconds = Math.max(0, Math.ceil(ms / 1000));
    return String(Math.floor(seconds / 60)).padStart(2, "0") + ":" + String(seconds % 60).padStart(2, "0");
  }

  function duration(seconds) {
    if (seconds < 90) return seconds + " s";
    if (seconds < 5400) return Math.round(seconds / 60) + " min";
    return (seconds / 3600).toFixed(1) + " h";
  }

  function bytes(size) {
    if (size < 1024 * 1024) return Math.max(1, Math.round(size / 1024)) + " KB";
    return (size / (1024 * 1024)).toFixed(1) + " MB";
  }

  function labelOf(code) {
    const reason = reasons.find((candidate) => candidate.code === code);
    return reason ? reason.label : code;
  }

  // --- The queue's figures ----------------------------------------------------------------

  function figuresText(queue) {
    const parts = [queue.pending + " waiting", queue.claimed + " in review"];
    if (queue.escalated) parts.push(queue.escalated + " escalated to the program admins");
    if (queue.oldest_wait_s !== null && queue.oldest_wait_s !== undefined) {
      parts.push("oldest waiting " + duration(queue.oldest_wait_s));
    }
    return "Queue: " + parts.join(" · ");
  }

  async function refreshQueue() {
    try {
      const queue = (await api("GET", urls.queueUrl)).data;
      el.figures.textContent = figuresText(queue);
      return queue;
    } catch (error) {
      el.figures.textContent = "";
      return null;
    }
  }

  // --- The lease --------------------------------------------------------------------------

  function startLease(expiresAt, serverNow) {
    // Measured against the server's clock (the Date header, whole seconds, so one second is
    // taken off): a browser whose clock is wrong still counts down the right time.
    const now = Number.isNaN(serverNow) ? Date.now() : serverNow + 1000;
    const left = Math.max(0, Date.parse(expiresAt) - now);
    deadline = performance.now() + left;
    el.lease.hidden = false;
    return left;
  }

  function stopLease() {
    deadline = 0;
    el.lease.hidden = true;
    el.lease.classList.remove("lease-low");
  }

  function tick() {
    if (!claim) return;
    const left = deadline - performance.now();
    el.leaseLeft.textContent = mmss(left);
    el.lease.classList.toggle("lease-low", left < Math.min(60000, leaseMs / 3));
    if (left <= 0 && !busy) { // a request in flight answers for itself
      lost("Your claim on this item ran out; nothing was decided, and it is back in the queue.");
    } else if (left <= leaseMs / 3 && !renewing && !busy && performance.now() - lastRenewal > RENEW_RETRY_MS) {
      renew();
    }
  }

  async function renew() {
    const held = claim;
    renewing = true;
    lastRenewal = performance.now();
    try {
      const answer = await api("POST", claimUrl(urls.renewUrl, held.id));
      if (claim === held) {
        startLease(answer.data.expires_at, answer.serverNow);
        tick();
      }
    } catch (error) {
      if (claim !== held || busy) return; // decided or released meanwhile: nothing to lose
      if (error.code === "review.lease_lost" || error.status === 404) {
        lost(error.message);
      } else {
        say("Could not renew your claim (" + error.message + "); trying again.");
      }
    } finally {
      renewing = false;
    }
  }

  // --- Panels -----------------------------------------------------------------------------

  function showPanel(name) {
    el.idle.hidden = name !== "idle";
    el.lost.hidden = name !== "lost";
    el.item.hidden = name !== "item";
  }

  function lost(message) {
    claim = null;
    stopLease();
    el.video.pause();
    el.lostMessage.textContent = message || "Your claim on this item expired or the item was decided; nothing was changed.";
    showPanel("lost");
    say("This item is no longer yours.");
    el.claimAfterLoss.focus();
    refreshQueue();
  }

  async function showNothing(done) {
    claim = null;
    stopLease();
    const queue = await refreshQueue();
    el.idleHeading.textContent = "Nothing to review";
    el.idleMessage.textContent = "No clip is waiting for you right now." +
      (queue ? " " + figuresText(queue) + " (your own clips, clips you decided and clips " +
        "others hold are not offered to you)." : "");
    el.start.textContent = "Check again";
    showPanel("idle");
    say((done ? done + " " : "") + "Nothing to review.");
    el.idleHeading.focus();
  }

  function renderFacts(submission) {
    const media = submission.media || {};
    const rows = [];
    if (media.width && media.height) rows.push(["Size", media.width + "×" + media.height]);
    if (media.duration_s !== null && media.duration_s !== undefined) rows.push(["Length", media.duration_s.toFixed(1) + " s"]);
    if (media.fps) rows.push(["Frame rate", Math.round(media.fps) + " fps"]);
    if (media.video_codec) rows.push(["Codec", media.video_codec + (media.container ? " in " + media.container : "")]);
    if (media.has_audio !== null && media.has_audio !== undefined) rows.push(["Sound", media.has_audio ? "yes" : "none"]);
    if (media.size_bytes) rows.push(["Upload", bytes(media.size_bytes)]);
    rows.push(["Source", submission.source === "generated" ? "the generator" : "an upload"]);
    if (submission.cohort) rows.push(["Cohort", submission.cohort]);
    el.facts.replaceChildren(...rows.map(([term, value]) => {
      const row = document.createElement("div");
      row.append(Object.assign(document.createElement("dt"), { textContent: term }),
        Object.assign(document.createElement("dd"), { textContent: value }));
      return row;
    }));
  }

  function renderHistory(history) {
    if (!history || !history.submissions) {
      el.history.textContent = "The tester's first clip.";
      return;
    }
    el.history.textContent = "The tester's other clips: " + history.submissions + " (" +
      history.approved + " approved, " + history.rejected + " rejected).";
  }

  function renderPrevious(claimed) {
    const decision = claimed.submission.decision;
    el.previousBox.hidden = !decision;
    if (!decision) return;
    el.previousBox.querySelector("h3").textContent =
      claimed.track === "appeal" ? "The decision appealed against" : "The decision so far";
    const reasonsText = decision.reasons.length ? " for " + decision.reasons.map(labelOf).join(", ") : "";
    el.previous.textContent = (decision.outcome === "reject" ? "Rejected" : "Approved") + reasonsText + ".";
    el.previousNote.textContent = decision.note_to_tester;
    el.previousNote.hidden = !decision.note_to_tester;
  }

  function renderMedia(urlsOf) {
    el.video.pause();
    if (urlsOf.watermarked) {
      el.video.poster = urlsOf.thumbnail || "";
      el.video.src = urlsOf.watermarked;
      el.video.hidden = false;
      el.noVideo.hidden = true;
    } else {
      el.video.removeAttribute("src");
      el.video.removeAttribute("poster");
      el.video.load();
      el.video.hidden = true;
      el.noVideo.hidden = false;
    }
    el.sheetBox.hidden = !urlsOf.contact_sheet;
    if (urlsOf.contact_sheet) {
      el.sheet.src = urlsOf.contact_sheet;
      el.sheetLink.href = urlsOf.contact_sheet;
    } else {
      el.sheet.removeAttribute("src");
    }
  }

  function show(claimed, serverNow, done) {
    claim = claimed;
    releasedOnHide = false;
    lastRenewal = -Infinity;
    leaseMs = startLease(claimed.expires_at, serverNow);
    tick();
    const submission = claimed.submission;
    const [trackLabel, trackHelp] = TRACKS[claimed.track] || [claimed.track, ""];
    el.item.dataset.claimId = claimed.id;
    el.item.dataset.submissionId = submission.id;
    el.item.dataset.track = claimed.track;
    el.track.textContent = trackLabel;
    el.track.className = "pill pill-track-" + claimed.track;
    el.trackHelp.textContent = trackHelp;
    el.heading.textContent = submission.title || "Untitled clip";
    el.appealBox.hidden = !claimed.appeal_message;
    el.appealMessage.textContent = claimed.appeal_message || "";
    renderPrevious(claimed);
    el.prompt.textContent = submission.prompt;
    renderFacts(submission);
    renderHistory(claimed.owner_history);
    renderMedia(submission.urls || {});
    for (const box of el.reasonList.querySelectorAll("input")) box.checked = false;
    el.note.value = autoNote = "";
    el.internal.value = "";
    for (const button of el.actions.querySelectorAll("button[data-action]")) {
      if (button.dataset.action !== "skip") button.hidden = !allows(claimed.track, button.dataset.action);
    }
    showPanel("item");
    say((done ? done + " " : "") + "Now reviewing (" + trackLabel.toLowerCase() + "): " +
      el.heading.textContent + ". Your claim lasts " + mmss(leaseMs) + ".");
    el.heading.focus();
    refreshQueue();
  }

  // --- Reasons ----------------------------------------------------------------------------

  function renderReasons() {
    el.reasonList.replaceChildren(...reasons.map((reason, index) => {
      const label = document.createElement("label");
      label.className = "reason";
      const box = Object.assign(document.createElement("input"), { type: "checkbox", value: reason.code });
      box.addEventListener("change", () => reasonToggled(reason, box.checked));
      const key = index < 9 ? Object.assign(document.createElement("kbd"), { textContent: String(index + 1) })
        : Object.assign(document.createElement("span"), { className: "kbd-none" });
      const text = Object.assign(document.createElement("span"), { textContent: reason.label, title: reason.description });
      label.append(box, " ", key, " ", text);
      return label;
    }));
  }

  function tickedCodes() {
    return [...el.reasonList.querySelectorAll("input:checked")].map((box) => box.value);
  }

  function reasonToggled(reason, ticked) {
    if (ticked) {
      el.reasonsError.hidden = true;
      el.reasons.classList.remove("has-error");
    }
    const note = el.note.value;
    if (note.trim() === autoNote.trim()) {
      // Untouched since the reasons wrote it: write it again from the ticked reasons.
      const ticks = new Set(tickedCodes());
      autoNote = reasons.filter((r) => ticks.has(r.code)).map((r) => r.canned_response).join("\n\n");
      el.note.value = autoNote;
    } else if (ticked && !note.includes(reason.canned_response)) {
      el.note.value = (note.trim() ? note.trimEnd() + "\n\n" : "") + reason.canned_response;
    } else if (!ticked) {
      el.note.value = note.replace(reason.canned_response, "").replace(/\n{3,}/g, "\n\n").trim();
    }
  }

  function toggleReason(index) {
    const box = el.reasonList.querySelectorAll("input")[index];
    if (!box) return;
    box.checked = !box.checked;
    box.dispatchEvent(new Event("change"));
    say(reasons[index].label + (box.checked ? " ticked." : " unticked."));
  }

  let reasonsLoaded = null;
  function loadReasons() {
    reasonsLoaded = reasonsLoaded || api("GET", urls.reasonsUrl).then((answer) => {
      reasons = answer.data;
      renderReasons();
    }).catch((error) => {
      reasonsLoaded = null;
      throw error;
    });
    return reasonsLoaded;
  }

  // --- Moves ------------------------------------------------------------------------------

  async function releaseQuietly(held) {
    try {
      await api("POST", claimUrl(urls.releaseUrl, held.id));
    } catch (error) {
      // Already gone (expired or decided): the item is not ours either way.
    }
  }

  // Takes the next item. With ``release``, the held claim is given back only once the next
  // one is ours, so the queue cannot hand the released item straight back.
  async function claimNext(options) {
    const { release = null, done = "" } = options || {};
    if (busy) return;
    setBusy(true);
    clearErrors();
    say((done ? done + " " : "") + "Looking for the next item…");
    try {
      await loadReasons();
      const answer = await api("POST", urls.claimsUrl);
      if (release) await releaseQuietly(release);
      if (answer.status === 204) {
        await showNothing(release ? "Released." : done);
      } else {
        show(answer.data, answer.serverNow, release ? "Released." : done);
      }
    } catch (error) {
      showError(error);
      say(error.message);
      if (!claim) showPanel(el.lost.hidden ? "idle" : "lost");
    } finally {
      setBusy(false);
    }
  }

  async function decide(outcome) {
    if (!claim || busy) return;
    if (!allows(claim.track, outcome)) return;
    clearErrors();
    const codes = tickedCodes();
    if (outcome === "approve" && codes.length) {
      reasonsError("Reasons are ticked: untick them to approve, or reject with R.");
      return;
    }
    const body = { outcome, reasons: outcome === "approve" ? [] : codes, internal_note: el.internal.value };
    // An approval may carry the moderator's own words (no reason is ticked, so no canned note).
    if (outcome !== "escalate") body.note_to_tester = el.note.value;
    const held = claim;
    setBusy(true);
    say({ approve: "Approving…", reject: "Rejecting…", escalate: "Escalating…" }[outcome]);
    try {
      await api("POST", claimUrl(urls.decideUrl, held.id), body);
    } catch (error) {
      setBusy(false);
      if (error.code === "review.lease_lost" || error.status === 404) {
        lost(error.message);
      } else if (error.fields.reasons) {
        reasonsError(error.code === "review.reason_required" ? error.message : error.fields.reasons.join(" "));
      } else {
        showError(error);
        say(error.message);
      }
      return;
    }
    claim = null;
    stopLease();
    el.video.pause();
    setBusy(false);
    await claimNext({ done: DONE[outcome] });
  }

  function skip() {
    if (busy) return;
    if (claim) claimNext({ release: claim });
    else claimNext();
  }

  // --- Wiring -----------------------------------------------------------------------------

  el.start.addEventListener("click", () => claimNext());
  el.claimAfterLoss.addEventListener("click", () => claimNext());
  el.actions.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    if (button.dataset.action === "skip") skip();
    else decide(button.dataset.action);
  });

  function typing(target) {
    if (!(target instanceof Element)) return false;
    if (target.isContentEditable || target.tagName === "TEXTAREA" || target.tagName === "SELECT") return true;
    return target.tagName === "INPUT" &&
      !["checkbox", "radio", "button", "submit", "reset", "range", "color", "file"].includes(target.type);
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    if (typing(event.target)) {
      if (event.key === "Escape") {
        event.target.blur();
        (claim ? el.heading : el.idleHeading).focus();
      }
      return;
    }
    if (event.repeat || event.defaultPrevented) return;
    const digit = /^(?:Digit|Numpad)([1-9])$/.exec(event.code);
    const key = event.key.length === 1 ? event.key.toLowerCase() : "";
    let action = null;
    if (claim && (/^[1-9]$/.test(key) || digit)) {
      const index = Number(/^[1-9]$/.test(key) ? key : digit[1]) - 1;
      action = () => toggleReason(index);
    } else if (claim && key === "a") {
      action = () => decide("approve");
    } else if (claim && key === "r") {
      action = () => decide("reject");
    } else if (claim && key === "e" && allows(claim.track, "escalate")) {
      action = () => decide("escalate");
    } else if (key === "s" || key === "n") {
      action = skip;
    }
    if (action) {
      event.preventDefault();
      action();
    }
  });

  setInterval(tick, 500);
  document.addEventListener("visibilitychange", tick);

  // Leaving the page gives the item back at once rather than when its lease runs out.
  window.addEventListener("pagehide", () => {
    if (!claim || busy) return;
    releasedOnHide = true;
    api("POST", claimUrl(urls.releaseUrl, claim.id), undefined, true).catch(() => {});
  });
  window.addEventListener("pageshow", (event) => {
    if (event.persisted && releasedOnHide && claim) {
      lost("You left the page, so this item went back to the queue.");
    }
  });

  el.start.disabled = false; // rendered disabled, so no click is lost before this script runs
  refreshQueue();
  loadReasons().catch((error) => { showError(error); say(error.message); });
  if (window.location.hash === "#start") {
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
    claimNext();
  }
})();
