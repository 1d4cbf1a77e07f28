// twin web UI: plain JavaScript, no build step. Every API call sends the key as a Bearer token;
// the key is kept in sessionStorage (or localStorage when "remember" is ticked), never in a URL.
"use strict";

const $ = (id) => document.getElementById(id);
const STORE_KEY = "twin.apiKey";
let apiKey = sessionStorage.getItem(STORE_KEY) || localStorage.getItem(STORE_KEY) || "";
let draftAbort = null;
const objectUrls = {};

function say(id, text, isError = false) {
  const el = $(id);
  el.textContent = text;
  el.classList.toggle("error", isError);
  delete el.dataset.auth;
}

// An error from api(); a missing or refused key is marked so that accepting a key clears it.
function showError(id, e) {
  say(id, e.message, true);
  if (e.status === 401) $(id).dataset.auth = "1";
}

function needKey(id) {
  if (apiKey) return false;
  showError(id, Object.assign(new Error("Enter your API key above first."), { status: 401 }));
  return true;
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {}, { Authorization: "Bearer " + apiKey });
  const res = await fetch(path, Object.assign({}, options, { headers }));
  if (!res.ok) {
    let message = res.status + " " + res.statusText;
    try {
      const body = await res.json();
      if (body.error) message = body.error.message + (body.error.hint ? " — " + body.error.hint : "");
    } catch (_) { /* not JSON */ }
    const err = new Error(message);
    err.status = res.status;
    throw err;
  }
  return res;
}

// ---- key -----------------------------------------------------------------------------------
async function useKey(key, remember) {
  apiKey = key.trim();
  try {
    await api("/api/engines");
  } catch (e) {
    apiKey = "";
    say("auth-status", e.status === 401 ? "That key was not accepted." : e.message, true);
    return false;
  }
  sessionStorage.setItem(STORE_KEY, apiKey);
  if (remember) localStorage.setItem(STORE_KEY, apiKey); else localStorage.removeItem(STORE_KEY);
  $("key-input").value = "";
  $("key-forget").hidden = false;
  for (const el of document.querySelectorAll("[data-auth]")) say(el.id, "");
  say("auth-status", "Key accepted.");
  document.body.classList.add("authed");
  refreshVoices();
  return true;
}

// Forget the key and everything shown with it: voices, engines, audio in the profile's voice.
function forgetKey() {
  apiKey = "";
  sessionStorage.removeItem(STORE_KEY);
  localStorage.removeItem(STORE_KEY);
  if (draftAbort) draftAbort.abort();
  stopSpeech();
  clearVoices();
  $("engines-table").querySelector("tbody").replaceChildren();
  for (const id of ["speak-audio", "test-audio"]) {
    $(id).removeAttribute("src");
    $(id).load();
    if (objectUrls[id]) URL.revokeObjectURL(objectUrls[id]);
    delete objectUrls[id];
  }
  $("speak-download").hidden = true;
  for (const id of ["speak-status", "test-status", "upload-status", "engines-status", "draft-meta"]) say(id, "");
  $("key-forget").hidden = true;
  document.body.classList.remove("authed");
  say("auth-status", "Key forgotten.");
}

// ---- tabs (WAI-ARIA tabs pattern: arrow keys move, Home/End jump) ---------------------------
function selectTab(tab) {
  for (const t of document.querySelectorAll("[role=tab]")) {
    const on = t === tab;
    t.setAttribute("aria-selected", String(on));
    t.tabIndex = on ? 0 : -1;
    $(t.getAttribute("aria-controls")).hidden = !on;
  }
  tab.focus();
  if (tab.id === "tab-engines") refreshEngines();
  if (tab.id === "tab-voice") refreshVoices();
}

function tabKeys(event) {
  const tabs = Array.from(document.querySelectorAll("[role=tab]"));
  const i = tabs.indexOf(document.activeElement);
  const moves = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 };
  if (!(event.key in moves)) return;
  event.preventDefault();
  selectTab(tabs[(moves[event.key] + tabs.length) % tabs.length]);
}

// ---- write ---------------------------------------------------------------------------------
async function* sseEvents(res) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
      if (data) yield JSON.parse(data);
    }
  }
}

async function writeDraft(event) {
  event.preventDefault();
  if (needKey("draft-meta")) return;
  const draft = $("draft");
  draft.value = "";
  draft.setAttribute("aria-busy", "true");
  say("draft-meta", "Writing…");
  draftAbort = new AbortController();
  $("draft-stop").hidden = false;
  $("draft-btn").disabled = true;
  const body = { prompt: $("prompt").value, stream: true };
  if ($("style-ref").value.trim()) body.style_reference = $("style-ref").value;
  try {
    const res = await api("/api/tts/lora/generate", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body), signal: draftAbort.signal,
    });
    for await (const ev of sseEvents(res)) {
      if (ev.delta !== undefined) draft.value += ev.delta;
      else if (ev.done) {
        draft.value = ev.text;
        say("draft-meta", `Done: ${ev.usage.completion_tokens} tokens from ${ev.model}.`);
      } else if (ev.error) say("draft-meta", ev.error.message, true);
    }
  } catch (e) {
    if (e.name === "AbortError") say("draft-meta", "Stopped.");
    else showError("draft-meta", e);
  } finally {
    draft.setAttribute("aria-busy", "false");
    $("draft-stop").hidden = true;
    $("draft-btn").disabled = false;
    draftAbort = null;
  }
}

// The finished file: into the player (unless it is already playing it, as with MP3 streams) and the link.
function setAudio(audioId, blob, linkId, fmt, intoPlayer) {
  if (objectUrls[audioId]) URL.revokeObjectURL(objectUrls[audioId]);
  const url = URL.createObjectURL(blob);
  objectUrls[audioId] = url;
  if (intoPlayer) $(audioId).src = url;
  if (linkId) {
    const link = $(linkId);
    link.href = url;
    link.download = "twin-speech." + fmt;
    link.textContent = "Download " + fmt.toUpperCase();
    link.hidden = false;
  }
}

// Speak with the streaming route so sound starts with the first clause (see stream-audio.js).
async function speak(text, voiceSelectId, fmt, audioId, statusId, linkId) {
  if (needKey(statusId)) return;
  if (!text.trim()) { say(statusId, "Nothing to speak yet.", true); return; }
  const ctx = fmt === "wav" ? newSpeechContext() : (stopSpeech(), null);
  const voice = $(voiceSelectId).value;
  const label = voiceLabel(voice);
  say(statusId, `Making speech in ${label}…`);
  const body = { text, format: fmt, stream: true };
  if (voice) body.voice_id = voice;
  try {
    const res = await api("/api/tts/clone", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    say(statusId, `Playing as it arrives, in ${label}…`);
    const blob = await playSpeechStream(res, fmt, $(audioId), ctx);
    setAudio(audioId, blob, linkId, fmt, speechPlayback.mode !== "mse");
    if (speechPlayback.mode === "blob") $(audioId).play().catch(() => {});
    say(statusId, `Spoken in ${label}. Press play to hear it again.`);
  } catch (e) {
    showError(statusId, e);
  }
}

// ---- voice ---------------------------------------------------------------------------------

let recorded = null;
let recorder = null;

function encodeWav(samples, rate) {
  const buf = new ArrayBuffer(44 + samples.length * 2);
  const view = new DataView(buf);
  const str = (o, s) => { for (let i = 0; i < s.length; i++) view.setUint8(o + i, s.charCodeAt(i)); };
  str(0, "RIFF"); view.setUint32(4, 36 + samples.length * 2, true); str(8, "WAVE"); str(12, "fmt ");
  view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
  view.setUint32(24, rate, true); view.setUint32(28, rate * 2, true); view.setUint16(32, 2, true);
  view.setUint16(34, 16, true); str(36, "data"); view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(44 + i * 2, s < 0 ? s * 0x8000 : s * 0x7fff, true);
  }
  return new Blob([buf], { type: "audio/wav" });
}

async function startRecording() {
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const parts = [];
    recorder = new MediaRecorder(stream);
    recorder.ondataavailable = (e) => parts.push(e.data);
    recorder.onstop = async () => {
      stream.getTracks().forEach((t) => t.stop());
      // Decode in the browser and send plain WAV, which the server reads without ffmpeg.
      const ctx = new AudioContext();
      const audio = await ctx.decodeAudioData(await new Blob(parts).arrayBuffer());
      recorded = encodeWav(audio.getChannelData(0), audio.sampleRate);
      say("rec-status", `Recorded ${audio.duration.toFixed(1)} s.`);
    };
    recorder.start();
    $("rec-start").disabled = true;
    $("rec-stop").disabled = false;
    say("rec-status", "Recording…");
  } catch (e) {
    say("rec-status", "Microphone not available: " + e.message, true);
  }
}

function stopRecording() {
  if (recorder) recorder.stop();
  $("rec-start").disabled = false;
  $("rec-stop").disabled = true;
}

async function uploadVoice(event) {
  event.preventDefault();
  if (needKey("upload-status")) return;
  const file = $("upload-file").files[0];
  const form = new FormData();
  if (file) form.append("file", file, file.name);
  else if (recorded) form.append("file", recorded, "recording.wav");
  else { say("upload-status", "Choose a file or record first.", true); return; }
  form.append("emotion", $("upload-emotion").value);
  if ($("upload-name").value) form.append("name", $("upload-name").value);
  say("upload-status", "Uploading…");
  $("upload-btn").disabled = true;
  try {
    const v = await (await api("/api/voice/upload", { method: "POST", body: form })).json();
    const note = v.default ? " It is your default voice." : "";
    say("upload-status", `Voice ${v.name || v.voice_id} ready (${v.duration_s.toFixed(1)} s of audio).${note}`);
    recorded = null;
    $("upload-file").value = "";
    await refreshVoices();
  } catch (e) {
    showError("upload-status", e);
  } finally {
    $("upload-btn").disabled = false;
  }
}

// ---- engines -------------------------------------------------------------------------------
// What the server actually checked: the URL it probed and the answer, or the install check.
function probeText(e) {
  const p = e.probe;
  if (e.kind === "http") return `${p.method} ${p.target}: ${p.result} (${p.latency_ms} ms)` + (e.detail ? "; " + e.detail : "");
  return (e.installed ? "installed" : p.result) + (e.detail ? "; " + e.detail : "");
}

async function refreshEngines() {
  if (needKey("engines-status")) return;
  try {
    const { engines } = await (await api("/api/engines")).json();
    const tbody = $("engines-table").querySelector("tbody");
    tbody.replaceChildren();
    for (const e of engines) {
      const tr = document.createElement("tr");
      for (const text of [e.capability.toUpperCase(), e.name, e.configured ? "yes" : "",
        probeText(e), e.warm ? "yes" : ""]) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.appendChild(td);
      }
      tbody.appendChild(tr);
    }
    say("engines-status", `${engines.length} engines.`);
  } catch (e) {
    showError("engines-status", e);
  }
}

// ---- wiring --------------------------------------------------------------------------------
document.addEventListener("DOMContentLoaded", () => {
  $("key-form").addEventListener("submit", (e) => {
    e.preventDefault();
    useKey($("key-input").value, $("key-remember").checked);
  });
  $("key-forget").addEventListener("click", forgetKey);
  for (const t of document.querySelectorAll("[role=tab]")) t.addEventListener("click", () => selectTab(t));
  $("tabs").addEventListener("keydown", tabKeys);
  $("write-form").addEventListener("submit", writeDraft);
  $("draft-stop").addEventListener("click", () => draftAbort && draftAbort.abort());
  $("speak-btn").addEventListener("click", () => speak($("draft").value, "speak-voice",
    $("speak-format").value, "speak-audio", "speak-status", "speak-download"));
  $("upload-form").addEventListener("submit", uploadVoice);
  $("rec-start").addEventListener("click", startRecording);
  $("rec-stop").addEventListener("click", stopRecording);
  $("test-form").addEventListener("submit", (e) => {
    e.preventDefault();
    speak($("test-text").value, "test-voice", "wav", "test-audio", "test-status", null);
  });
  $("engines-refresh").addEventListener("click", refreshEngines);
  if (apiKey) useKey(apiKey, !!localStorage.getItem(STORE_KEY));
});
