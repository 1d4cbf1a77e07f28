// The profile's voices in the UI: the Voice tab's table (what each voice is ready for and what is
// missing, make default, delete), the voice pickers, and the emotion list, all as the server has them.
// Uses $, api, say and showError from app.js.
"use strict";

let voiceList = [];
let emotionList = ["neutral"];

function defaultVoice() {
  return voiceList.find((v) => v.default) || null;
}

function voiceName(v) {
  return v.name || v.voice_id;
}

// What a request with this picker value is spoken in, in words.
function voiceLabel(value) {
  if (value === "base" || (!value && !defaultVoice())) return "the base voice (not yours)";
  const v = value ? voiceList.find((x) => x.voice_id === value) : defaultVoice();
  return v ? `your voice “${voiceName(v)}”` : "the selected voice";
}

function readiness(v) {
  const have = v.emotions || [];
  const missing = emotionList.filter((e) => !have.includes(e));
  const lines = [have.length ? `Speaks: ${have.join(", ")}.` : "No reference clip yet."];
  if (missing.length) {
    const shown = missing.slice(0, 3).join(", ") + (missing.length > 3 ? ` and ${missing.length - 3} more` : "");
    lines.push(`Not recorded yet: ${shown}.`);
  }
  lines.push(v.trained ? "Converter trained on your recordings." : "Not trained yet: run twin voice train for a closer match.");
  const similarity = v.details && v.details.eval && v.details.eval.similarity;
  if (typeof similarity === "number") lines.push(`Similarity to you: ${similarity.toFixed(2)}.`);
  return lines;
}

function cell(tr, content) {
  const td = document.createElement("td");
  if (content instanceof Node) td.appendChild(content);
  else td.textContent = content;
  tr.appendChild(td);
  return td;
}

function voiceRow(v) {
  const tr = document.createElement("tr");
  const head = cell(tr, Object.assign(document.createElement("strong"), { textContent: voiceName(v) }));
  if (v.default) head.append(" ", Object.assign(document.createElement("span"), { className: "badge", textContent: "default" }));
  head.appendChild(Object.assign(document.createElement("div"), { className: "help", textContent: `${(v.duration_s || 0).toFixed(1)} s reference` }));
  const actions = Object.assign(document.createElement("div"), { className: "actions" });
  if (!v.default) {
    const make = Object.assign(document.createElement("button"), { type: "button", textContent: "Make default" });
    make.setAttribute("aria-label", `Make ${voiceName(v)} the default voice`);
    make.addEventListener("click", () => makeDefault(v));
    actions.appendChild(make);
  }
  const del = Object.assign(document.createElement("button"), { type: "button", className: "danger", textContent: "Delete" });
  del.setAttribute("aria-label", `Delete voice ${voiceName(v)}`);
  del.addEventListener("click", () => deleteVoice(v));
  actions.appendChild(del);
  head.appendChild(actions);
  const list = Object.assign(document.createElement("ul"), { className: "plain" });
  for (const line of readiness(v)) list.appendChild(Object.assign(document.createElement("li"), { textContent: line }));
  cell(tr, list);
  return tr;
}

function fillVoicePickers() {
  const def = defaultVoice();
  for (const select of document.querySelectorAll(".voice-select")) {
    const keep = select.value;
    select.replaceChildren(new Option(def ? `Your default voice (${voiceName(def)})` : "Base voice (no voice of yours yet)", ""));
    for (const v of voiceList) select.appendChild(new Option(voiceName(v) + (v.default ? " (default)" : ""), v.voice_id));
    if (voiceList.length) select.appendChild(new Option("Base voice (not yours)", "base"));
    select.value = [...select.options].some((o) => o.value === keep) ? keep : "";
  }
}

function fillEmotions() {
  const select = $("upload-emotion");
  const keep = select.value;
  select.replaceChildren(...emotionList.map((e) => new Option(e, e)));
  select.value = emotionList.includes(keep) ? keep : emotionList[0];
}

function renderVoices() {
  const tbody = $("voices-table").querySelector("tbody");
  tbody.replaceChildren(...voiceList.map(voiceRow));
  $("voices-empty").hidden = voiceList.length > 0;
  fillVoicePickers();
}

async function refreshVoices() {
  if (!apiKey) return;
  try {
    const [voices, emotions] = await Promise.all([api("/api/voice"), api("/api/voice/emotions")]);
    voiceList = (await voices.json()).voices;
    emotionList = (await emotions.json()).emotions;
  } catch (e) {
    showError("voices-status", e);
    return;
  }
  fillEmotions();
  renderVoices();
}

// After "Forget": nothing of the profile stays on screen.
function clearVoices() {
  voiceList = [];
  emotionList = ["neutral"];
  fillEmotions();
  renderVoices();
  say("voices-status", "");
}

async function makeDefault(v) {
  try {
    await api(`/api/voice/${encodeURIComponent(v.voice_id)}/default`, { method: "POST" });
    await refreshVoices();
    say("voices-status", `${voiceName(v)} is now the default voice.`);
  } catch (e) {
    showError("voices-status", e);
  }
}

async function deleteVoice(v) {
  if (!window.confirm(`Delete the voice “${voiceName(v)}”? Your recordings in the library stay.`)) return;
  try {
    await api(`/api/voice/${encodeURIComponent(v.voice_id)}`, { method: "DELETE" });
    await refreshVoices();
    const now = defaultVoice();
    let message = `Deleted ${voiceName(v)}.`;
    if (!now) message += " No voices are left: speech uses the base voice.";
    else if (v.default) message += ` ${voiceName(now)} is now the default voice.`;
    say("voices-status", message);
  } catch (e) {
    showError("voices-status", e);
  }
}
