// Speech that starts playing while it is still being made. POST /api/tts/clone with "stream": true sends
// audio clause by clause: WAV as a header (open length) and then 16-bit PCM, MP3 as frames.
// WAV pieces are decoded as they arrive and queued on Web Audio, back to back, so sound starts with the
// first clause (a WAV in an <audio> element would only play once the whole blob is there). MP3 goes to
// the <audio> element through Media Source Extensions where the browser supports audio/mpeg, else it
// plays when complete. Either way the finished file is returned for replay and download.
"use strict";

// What the last playback did; the UI status line and the browser tests read it.
const speechPlayback = { mode: "", chunks: 0, startedAtChunk: 0, scheduledS: 0, done: false };
let speechContext = null;

function stopSpeech() {
  if (speechContext) speechContext.close().catch(() => {});
  speechContext = null;
}

// Made during the click, so the browser lets it play once audio arrives.
function newSpeechContext() {
  stopSpeech();
  speechContext = new AudioContext();
  return speechContext;
}

function concatBytes(a, b) {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

// {rate, channels, dataOffset} once the header is complete, null while more bytes are needed.
function parseWavHeader(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const tag = (at) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 12) return null;
  if (tag(0) !== "RIFF" || tag(8) !== "WAVE") throw new Error("The speech stream is not WAV.");
  let pos = 12;
  let fmt = null;
  while (pos + 8 <= bytes.length) {
    const id = tag(pos);
    const size = view.getUint32(pos + 4, true);
    if (id === "data") return fmt && { ...fmt, dataOffset: pos + 8 };
    if (id === "fmt " && pos + 24 <= bytes.length) {
      fmt = { channels: view.getUint16(pos + 10, true), rate: view.getUint32(pos + 12, true) };
      if (view.getUint16(pos + 22, true) !== 16) throw new Error("The speech stream is not 16-bit PCM.");
    }
    pos += 8 + size + (size % 2);
  }
  return null;
}

// The whole WAV with its real sizes written in (the streamed header says "unknown length").
function finishedWav(parts, dataOffset) {
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((offset, p) => (bytes.set(p, offset), offset + p.length), 0);
  const view = new DataView(bytes.buffer);
  view.setUint32(4, bytes.length - 8, true);
  view.setUint32(dataOffset - 4, bytes.length - dataOffset, true);
  return new Blob([bytes], { type: "audio/wav" });
}

async function playWavStream(res, ctx) {
  const reader = res.body.getReader();
  const parts = [];
  let head = new Uint8Array(0);
  let fmt = null;
  let carry = new Uint8Array(0);
  let at = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    parts.push(value);
    speechPlayback.chunks += 1;
    let pcm = value;
    if (!fmt) {
      head = concatBytes(head, value);
      fmt = parseWavHeader(head);
      if (!fmt) continue;
      pcm = head.subarray(fmt.dataOffset);
    }
    pcm = concatBytes(carry, pcm);
    const frame = 2 * fmt.channels;
    const usable = pcm.length - (pcm.length % frame);
    carry = pcm.slice(usable);
    if (usable === 0) continue;
    const n = usable / frame;
    const buffer = ctx.createBuffer(fmt.channels, n, fmt.rate);
    const view = new DataView(pcm.buffer, pcm.byteOffset, usable);
    for (let c = 0; c < fmt.channels; c++) {
      const out = buffer.getChannelData(c);
      for (let i = 0; i < n; i++) out[i] = view.getInt16((i * fmt.channels + c) * 2, true) / 32768;
    }
    const source = ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(ctx.destination);
    at = Math.max(at, ctx.currentTime + 0.02);
    source.start(at);
    at += buffer.duration;
    speechPlayback.scheduledS += buffer.duration;
    if (!speechPlayback.startedAtChunk) speechPlayback.startedAtChunk = speechPlayback.chunks;
  }
  if (!fmt) throw new Error("The speech stream ended before any audio.");
  return finishedWav(parts, fmt.dataOffset);
}

function appendTo(buffer, bytes) {
  return new Promise((resolve, reject) => {
    buffer.addEventListener("updateend", resolve, { once: true });
    buffer.addEventListener("error", () => reject(new Error("The browser could not play this MP3.")), { once: true });
    buffer.appendBuffer(bytes);
  });
}

async function playMp3Stream(res, audio) {
  const source = new MediaSource();
  audio.src = URL.createObjectURL(source);
  await new Promise((resolve) => source.addEventListener("sourceopen", resolve, { once: true }));
  const buffer = source.addSourceBuffer("audio/mpeg");
  const reader = res.body.getReader();
  const parts = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    parts.push(value);
    speechPlayback.chunks += 1;
    await appendTo(buffer, value);
    if (!speechPlayback.startedAtChunk) {
      speechPlayback.startedAtChunk = speechPlayback.chunks;
      audio.play().catch(() => {}); // a blocked autoplay leaves the controls to the user
    }
  }
  source.endOfStream();
  return new Blob(parts, { type: "audio/mpeg" });
}

// Play a streamed speech response as it arrives; resolves to the complete file.
// `ctx` (from newSpeechContext) is needed for WAV.
async function playSpeechStream(res, fmt, audio, ctx) {
  Object.assign(speechPlayback, { mode: "", chunks: 0, startedAtChunk: 0, scheduledS: 0, done: false });
  let blob;
  if (fmt === "wav") {
    speechPlayback.mode = "webaudio";
    blob = await playWavStream(res, ctx);
  } else if (window.MediaSource && MediaSource.isTypeSupported("audio/mpeg")) {
    speechPlayback.mode = "mse";
    blob = await playMp3Stream(res, audio);
  } else {
    speechPlayback.mode = "blob";
    blob = await res.blob();
    speechPlayback.chunks = 1;
  }
  speechPlayback.done = true;
  return blob;
}
