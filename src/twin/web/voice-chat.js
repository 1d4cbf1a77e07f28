// Voice tab: talk with your twin over /ws/voice (docs/realtime-protocol.md). The microphone is
// captured by an AudioWorklet (voice-worklet.js) as 20 ms PCM16 frames with the browser's echo
// cancellation on; replies arrive as PCM16 clauses played back to back through WebAudio, and
// `interrupted` stops them at once. The key travels as the `twin.bearer.<key>` subprotocol.
"use strict";

const talk = {
  ws: null, ctx: null, stream: null, node: null, sources: [], nextAt: 0,
  turn: null, turnStart: 0, turnQueued: 0, pendingHeader: null, holding: false, reply: null,
  timer: null,
};
// What the page has played, for people and tests: seconds of reply audio scheduled and played.
const talkPlayback = { clauses: 0, scheduledS: 0, stopped: 0 };

function talkSay(text, isError = false) {
  const el = document.getElementById("talk-status");
  el.textContent = text;
  el.classList.toggle("error", isError);
}

function talkLine(who, text) {
  const p = document.createElement("p");
  p.className = "talk-" + who;
  const b = document.createElement("strong");
  b.textContent = who === "you" ? "You: " : "Twin: ";
  const span = document.createElement("span");
  span.textContent = text;
  p.append(b, span);
  document.getElementById("talk-log").append(p);
  return span;
}

async function talkStart() {
  if (!apiKey) { talkSay("Enter your API key above first.", true); return; }
  const pushToTalk = document.getElementById("talk-ptt").checked;
  try {
    talk.stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
  } catch (e) {
    talkSay("The microphone is not available: " + e.message, true);
    return;
  }
  talk.ctx = new AudioContext();
  await talk.ctx.audioWorklet.addModule("/ui/voice-worklet.js");
  const source = talk.ctx.createMediaStreamSource(talk.stream);
  talk.node = new AudioWorkletNode(talk.ctx, "twin-mic-frames");
  source.connect(talk.node);
  talk.node.port.onmessage = (e) => {
    const open = talk.ws && talk.ws.readyState === WebSocket.OPEN;
    if (open && (!pushToTalk || talk.holding)) talk.ws.send(e.data);
  };
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/voice";
  talk.ws = new WebSocket(url, ["twin.voice.v0", "twin.bearer." + apiKey]);
  talk.ws.binaryType = "arraybuffer";
  talk.ws.onopen = () => talk.ws.send(JSON.stringify({
    type: "hello", sample_rate: talk.ctx.sampleRate, tts_format: "pcm16",
    mode: pushToTalk ? "push_to_talk" : "auto",
  }));
  talk.ws.onmessage = (e) => talkMessage(e.data);
  talk.ws.onclose = (e) => {
    if (talk.ws) talkSay(e.code === 1000 ? "Stopped." : "Disconnected (" + (e.reason || e.code) + ").", e.code !== 1000);
    talkStop(false);
  };
  document.getElementById("talk-start").hidden = true;
  document.getElementById("talk-stop").hidden = false;
  document.getElementById("talk-hold").hidden = !pushToTalk;
  document.getElementById("talk-ptt").disabled = true;
  talk.timer = setInterval(talkReportPlayback, 250);
  talkSay("Connecting…");
}

function talkStop(close = true) {
  const ws = talk.ws;
  talk.ws = null;
  if (close && ws) { ws.close(1000); talkSay("Stopped."); }
  talkStopAudio();
  if (talk.timer) clearInterval(talk.timer);
  if (talk.stream) for (const t of talk.stream.getTracks()) t.stop();
  if (talk.ctx) talk.ctx.close();
  Object.assign(talk, { ctx: null, stream: null, node: null, timer: null, turn: null });
  document.getElementById("talk-start").hidden = false;
  document.getElementById("talk-stop").hidden = true;
  document.getElementById("talk-hold").hidden = true;
  document.getElementById("talk-ptt").disabled = false;
}

function talkStopAudio() {
  for (const s of talk.sources) { try { s.stop(); } catch (_) { /* already ended */ } }
  if (talk.sources.length) talkPlayback.stopped += 1;
  talk.sources = [];
  talk.nextAt = 0;
}

function talkMessage(data) {
  if (data instanceof ArrayBuffer) {
    const header = talk.pendingHeader;
    talk.pendingHeader = null;
    if (header && header.turn_id === talk.turn) talkPlay(new Int16Array(data), header.sample_rate);
    return;
  }
  const m = JSON.parse(data);
  const partial = document.getElementById("talk-partial");
  switch (m.type) {
    case "ready": talkSay(m.mode === "auto" ? "Listening — just speak." : "Hold the button while you speak."); break;
    case "speech_started": talkSay("Hearing you…"); break;
    case "partial_transcript": partial.textContent = m.text; break;
    case "final_transcript":
      partial.textContent = "";
      if (m.text) talkLine("you", m.text);
      talk.turn = m.turn_id; talk.turnQueued = 0; talk.reply = null;
      talkSay("Thinking…");
      break;
    case "assistant_delta":
      if (m.turn_id !== talk.turn) break;
      if (!talk.reply) talk.reply = talkLine("twin", "");
      talk.reply.textContent += m.text;
      break;
    case "tts_audio": talk.pendingHeader = m; talkSay("Speaking…"); break;
    case "assistant_message": if (talk.reply) talk.reply.textContent = m.text; break;
    case "interrupted":
      talkStopAudio();
      if (talk.reply && m.turn_id === talk.turn) talk.reply.textContent = m.delivered_text + " — (interrupted)";
      talk.turn = null;
      talkSay("Interrupted — listening.");
      break;
    case "done": if (m.reason !== "interrupted") talkSay("Listening."); break;
    case "error": talkSay(m.message + (m.hint ? " — " + m.hint : ""), true); break;
  }
}

function talkPlay(pcm, rate) {
  const ctx = talk.ctx;
  if (!ctx || !pcm.length) return;
  const buffer = ctx.createBuffer(1, pcm.length, rate);
  const out = buffer.getChannelData(0);
  for (let i = 0; i < pcm.length; i++) out[i] = pcm[i] / 32768;
  const src = ctx.createBufferSource();
  src.buffer = buffer;
  src.connect(ctx.destination);
  const at = Math.max(ctx.currentTime + 0.02, talk.nextAt);
  if (!talk.turnQueued) talk.turnStart = at;
  src.start(at);
  talk.nextAt = at + buffer.duration;
  talk.turnQueued += buffer.duration;
  talk.sources.push(src);
  src.onended = () => { talk.sources = talk.sources.filter((s) => s !== src); };
  talkPlayback.clauses += 1;
  talkPlayback.scheduledS += buffer.duration;
}

function talkReportPlayback() {
  if (!talk.ws || talk.ws.readyState !== WebSocket.OPEN || !talk.turn || !talk.turnQueued) return;
  const played = Math.min(Math.max(talk.ctx.currentTime - talk.turnStart, 0), talk.turnQueued);
  talk.ws.send(JSON.stringify({ type: "playback", turn_id: talk.turn, played_ms: Math.round(played * 1000) }));
}

function talkHold(down) {
  if (!talk.ws || talk.ws.readyState !== WebSocket.OPEN) return;
  if (down && talk.sources.length) talk.ws.send(JSON.stringify({ type: "cancel" }));
  talk.holding = down;
  if (!down) talk.ws.send(JSON.stringify({ type: "end" }));
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("talk-start").addEventListener("click", talkStart);
  document.getElementById("talk-stop").addEventListener("click", () => talkStop(true));
  const hold = document.getElementById("talk-hold");
  hold.addEventListener("pointerdown", () => talkHold(true));
  hold.addEventListener("pointerup", () => talkHold(false));
  hold.addEventListener("keydown", (e) => { if (e.key === " " && !e.repeat) talkHold(true); });
  hold.addEventListener("keyup", (e) => { if (e.key === " ") talkHold(false); });
});
