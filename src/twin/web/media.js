// twin web UI — Media tab: review a film's characters. Projects, a timeline of segments per character,
// play a segment, move it to another character or drop it, edit its text, name speakers, and start
// export / voice / persona for a character. Uses api(), say() and $() from app.js.
"use strict";

const media = { project: null, segments: [], duration: 1, selected: null, audioUrl: null };

function mediaEl(tag, props = {}, text = "") {
  const el = document.createElement(tag);
  Object.assign(el, props);
  if (text) el.textContent = text;
  return el;
}

async function mediaJson(path, body) {
  const opts = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  return (await api(path, opts)).json();
}

async function refreshMediaProjects() {
  if (!apiKey) { say("media-status", "Enter your key first.", true); return; }
  try {
    const { projects } = await mediaJson("/api/media/projects");
    const select = $("media-project");
    const keep = select.value;
    select.replaceChildren();
    for (const p of projects) {
      select.appendChild(new Option(`${p.title} (${(p.duration_s / 60).toFixed(1)} min)`, p.id));
    }
    if (!projects.length) {
      say("media-status", "No media projects yet. Make one with: twin media transcribe FILM --subtitles FILE");
      return;
    }
    select.value = projects.some((p) => p.id === keep) ? keep : projects[projects.length - 1].id;
    await loadMediaProject(select.value);
  } catch (e) {
    say("media-status", e.message, true);
  }
}

async function loadMediaProject(id) {
  media.project = id;
  const base = `/api/media/projects/${id}`;
  const [detail, segs] = await Promise.all([mediaJson(base), mediaJson(base + "/segments")]);
  media.segments = segs.segments;
  media.duration = segs.duration_s || 1;
  renderCharacters(detail);
  renderTimeline();
  const who = detail.characters.length;
  say("media-status", `${who} character${who === 1 ? "" : "s"}, ${media.segments.length} segments.`);
}

function characterNames() {
  return [...new Set(media.segments.map((s) => s.character))];
}

function renderCharacters(detail) {
  const list = $("media-characters");
  list.replaceChildren();
  const actionSelect = $("media-action-character");
  actionSelect.replaceChildren();
  for (const c of detail.characters) {
    const li = mediaEl("li");
    const voice = detail.voices[c.character] ? " · voice ready" : "";
    li.appendChild(mediaEl("strong", {}, c.character));
    li.appendChild(mediaEl("span", { className: "help" },
      ` ${c.speech_s.toFixed(0)} s of speech · ${c.segments} segments · ${c.speakers.join(", ")}${voice}`));
    if (!c.named) {
      const form = mediaEl("form", { className: "row media-name" });
      const input = mediaEl("input", { required: true, maxLength: 60, placeholder: "Name" });
      input.setAttribute("aria-label", `Name for ${c.character}`);
      const btn = mediaEl("button", { type: "submit" }, "Name");
      form.append(input, btn);
      form.addEventListener("submit", (e) => { e.preventDefault(); nameSpeaker(c.speakers[0], input.value); });
      li.appendChild(form);
    }
    list.appendChild(li);
    actionSelect.appendChild(new Option(c.character, c.character));
  }
}

function renderTimeline() {
  const box = $("media-timeline");
  box.replaceChildren();
  for (const who of characterNames()) {
    const row = mediaEl("div", { className: "media-row" });
    row.appendChild(mediaEl("span", { className: "media-label" }, who));
    const track = mediaEl("div", { className: "media-track" });
    for (const s of media.segments.filter((x) => x.character === who)) {
      const cls = "media-seg" + (s.overlap ? " overlap" : "") + (s.dropped ? " dropped" : "");
      const b = mediaEl("button", { type: "button", className: cls });
      b.style.left = (100 * s.start / media.duration) + "%";
      b.style.width = Math.max(0.4, 100 * (s.end - s.start) / media.duration) + "%";
      b.dataset.id = s.id;
      const notes = (s.overlap ? ", overlap" : "") + (s.dropped ? ", dropped" : "");
      b.setAttribute("aria-label", `${who} ${s.start.toFixed(1)} to ${s.end.toFixed(1)} seconds${notes}`);
      b.title = s.text || "(no text)";
      b.addEventListener("click", () => selectSegment(s.id));
      track.appendChild(b);
    }
    row.appendChild(track);
    box.appendChild(row);
  }
  const dropped = media.segments.filter((s) => s.dropped).length;
  $("media-dropped").textContent = dropped ? `${dropped} dropped segment(s), shown hatched.` : "";
}

function selectSegment(id) {
  const s = media.segments.find((x) => x.id === id);
  if (!s) return;
  media.selected = s;
  $("media-segment").hidden = false;
  $("media-seg-title").textContent = `${s.id}: ${s.start.toFixed(1)}–${s.end.toFixed(1)} s, ${s.character}` +
    (s.overlap ? " (two voices: never exported)" : "");
  $("media-seg-text").value = s.text;
  const select = $("media-seg-character");
  select.replaceChildren();
  for (const who of characterNames()) select.appendChild(new Option(who, who));
  select.value = s.character;
  $("media-seg-drop").textContent = s.dropped ? "Restore" : "Drop";
  for (const b of document.querySelectorAll(".media-seg")) b.classList.toggle("selected", b.dataset.id === id);
  say("media-seg-status", "");
}

async function playSegment() {
  const s = media.selected;
  if (!s) return;
  try {
    const blob = await (await api(`/api/media/projects/${media.project}/segments/${s.id}/audio`)).blob();
    if (media.audioUrl) URL.revokeObjectURL(media.audioUrl);
    media.audioUrl = URL.createObjectURL(blob);
    const audio = $("media-seg-audio");
    audio.src = media.audioUrl;
    await audio.play();
    say("media-seg-status", "Playing.");
  } catch (e) {
    say("media-seg-status", e.message, true);
  }
}

async function fixSegment(change, done) {
  const s = media.selected;
  try {
    const seg = await mediaJson(`/api/media/projects/${media.project}/segments/${s.id}`, change);
    await loadMediaProject(media.project);
    if (media.segments.some((x) => x.id === seg.id)) selectSegment(seg.id); else $("media-segment").hidden = true;
    say("media-seg-status", done);
    say("media-status", `${s.id}: ${done}`);
  } catch (e) {
    say("media-seg-status", e.message, true);
  }
}

async function nameSpeaker(speaker, name) {
  try {
    const r = await mediaJson(`/api/media/projects/${media.project}/speakers/${speaker}/name`, { name });
    await loadMediaProject(media.project);
    say("media-status", `${r.speakers.join(", ")} → ${r.character}`);
  } catch (e) {
    say("media-status", e.message, true);
  }
}

async function characterAction(kind) {
  const character = $("media-action-character").value;
  if (!character) return;
  const labels = { export: "Exporting clips", "train-voice": "Making the voice (a few minutes)", persona: "Making the persona" };
  say("media-action-status", `${labels[kind]} of ${character}…`);
  for (const b of document.querySelectorAll(".media-action")) b.disabled = true;
  try {
    const r = await mediaJson(`/api/media/projects/${media.project}/${kind}`, { character });
    const text = kind === "export" ? `${r.clips} clips, ${r.seconds.toFixed(0)} s of ${r.character} (${r.dropped} dropped).`
      : kind === "train-voice" ? `Voice ${r.voice_id} for ${r.character}.`
        : `Persona of ${r.character}: ${r.card}; dataset ${r.dataset}.`;
    say("media-action-status", text);
    await loadMediaProject(media.project);
  } catch (e) {
    say("media-action-status", e.message, true);
  } finally {
    for (const b of document.querySelectorAll(".media-action")) b.disabled = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const panel = $("panel-media");
  if (!panel) return;
  new MutationObserver(() => { if (!panel.hidden) refreshMediaProjects(); })
    .observe(panel, { attributes: true, attributeFilter: ["hidden"] });
  $("media-refresh").addEventListener("click", refreshMediaProjects);
  $("media-project").addEventListener("change", (e) => loadMediaProject(e.target.value));
  $("media-seg-play").addEventListener("click", playSegment);
  $("media-seg-move").addEventListener("click", () => fixSegment({ character: $("media-seg-character").value }, "moved"));
  $("media-seg-save").addEventListener("click", () => fixSegment({ text: $("media-seg-text").value }, "text saved"));
  $("media-seg-drop").addEventListener("click", () => fixSegment({ dropped: !media.selected.dropped }, media.selected.dropped ? "restored" : "dropped"));
  for (const b of document.querySelectorAll(".media-action")) b.addEventListener("click", () => characterAction(b.dataset.action));
});
