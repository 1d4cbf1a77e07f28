// twin web UI: the Chat tab and its memory inspector. Uses api() and apiKey from app.js (loaded first).
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  let conversationId = "";
  let chatAbort = null;
  let selectedMemory = null;

  function status(id, text, isError = false) {
    const el = $(id);
    el.textContent = text;
    el.classList.toggle("error", isError);
  }

  function bubble(role, text, extra = "") {
    const li = document.createElement("li");
    li.className = "msg " + role + (extra ? " " + extra : "");
    const who = document.createElement("strong");
    who.textContent = role === "user" ? "You: " : ($("chat-persona").value || "twin") + ": ";
    const body = document.createElement("span");
    body.className = "text";
    body.textContent = text;
    li.append(who, body);
    $("chat-log").append(li);
    li.scrollIntoView({ block: "nearest" });
    return body;
  }

  async function loadPersonas() {
    const res = await api("/api/personas");
    const { personas } = await res.json();
    const sel = $("chat-persona");
    const keep = sel.value;
    sel.replaceChildren(...personas.map((p) => new Option(p.display_name || p.name, p.name)));
    if (personas.some((p) => p.name === keep)) sel.value = keep;
  }

  async function loadConversations() {
    const persona = encodeURIComponent($("chat-persona").value || "twin");
    const res = await api("/api/conversations?persona=" + persona);
    const { conversations } = await res.json();
    const sel = $("chat-conversation");
    sel.replaceChildren(new Option("New conversation", ""),
      ...conversations.map((c) => new Option((c.title || c.id) + " (" + c.messages + ")", c.id)));
    sel.value = conversations.some((c) => c.id === conversationId) ? conversationId : "";
  }

  async function openConversation(id) {
    conversationId = id;
    $("chat-log").replaceChildren();
    if (!id) return;
    const res = await api("/api/conversations/" + encodeURIComponent(id));
    for (const t of (await res.json()).turns) bubble(t.role, t.text, t.interrupted ? "interrupted" : "");
  }

  // Reads "event: x / data: {...}" blocks from a streamed fetch body.
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
        let event = "message", data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) event = line.slice(7);
          else if (line.startsWith("data: ")) data += line.slice(6);
        }
        if (data) yield { event, data: JSON.parse(data) };
      }
    }
  }

  async function send(event) {
    event.preventDefault();
    const text = $("chat-input").value.trim();
    if (!text) return;
    $("chat-input").value = "";
    bubble("user", text);
    const out = bubble("assistant", "");
    chatAbort = new AbortController();
    $("chat-stop").hidden = false;
    $("chat-send").disabled = true;
    status("chat-status", "Thinking…");
    const body = { message: text, persona: $("chat-persona").value || "twin", stream: true, memory: $("chat-memory").checked };
    if (conversationId) body.conversation_id = conversationId;
    try {
      const res = await api("/api/chat", {
        method: "POST", body: JSON.stringify(body), signal: chatAbort.signal,
        headers: { "Content-Type": "application/json" },
      });
      for await (const { event: kind, data } of sseEvents(res)) {
        if (kind === "delta") out.textContent += data.delta;
        else if (kind === "error") throw new Error(data.error.message);
        else if (kind === "done") {
          conversationId = data.conversation_id;
          const used = data.memories_used.length;
          status("chat-status", "Done" + (used ? " · used " + used + " memor" + (used === 1 ? "y" : "ies") : ""));
        }
      }
      await loadConversations();
      for (const ms of [400, 1500, 4000, 9000, 20000, 40000, 70000]) setTimeout(refreshMemories, ms); // extraction runs just after the reply
    } catch (e) {
      if (e.name === "AbortError") { out.parentElement.classList.add("interrupted"); status("chat-status", "Stopped."); }
      else status("chat-status", e.message, true);
    } finally {
      chatAbort = null;
      $("chat-stop").hidden = true;
      $("chat-send").disabled = false;
    }
  }

  async function refreshMemories(event) {
    if (event) event.preventDefault();
    const params = new URLSearchParams({ persona: $("chat-persona").value || "twin", limit: "50" });
    const q = $("mem-q").value.trim();
    if (q) params.set("q", q);
    if ($("mem-superseded").checked) params.set("include_superseded", "true");
    try {
      const { items } = await (await api("/api/memories?" + params)).json();
      const list = $("mem-list");
      list.replaceChildren(...items.map((m) => {
        const li = document.createElement("li");
        const b = document.createElement("button");
        b.type = "button";
        b.className = "mem " + m.status;
        b.textContent = m.text + (m.status === "superseded" ? " (superseded)" : "");
        b.addEventListener("click", () => showMemory(m.id));
        li.append(b);
        return li;
      }));
      status("mem-status", items.length ? items.length + " memories" : "Nothing remembered yet.");
    } catch (e) { status("mem-status", e.message, true); }
  }

  async function showMemory(id) {
    const m = await (await api("/api/memories/" + encodeURIComponent(id))).json();
    selectedMemory = m.id;
    $("mem-detail").hidden = false;
    $("mem-why").textContent = m.kind + " · " + m.scope + " · " + m.status + " — " + m.reason +
      " (by " + m.extractor + ", mentioned " + m.mentions + "×)";
    $("mem-sources").replaceChildren(...m.sources.map((s) => {
      const li = document.createElement("li");
      li.textContent = s.deleted ? "(turn deleted)" : s.role + ": " + s.text;
      return li;
    }));
    const parts = [];
    if (m.superseded_by_item) parts.push("Replaced by: " + m.superseded_by_item.text);
    for (const old of m.replaces) parts.push("Replaces: " + old.text);
    $("mem-history").textContent = parts.join(" · ");
    $("mem-edit").value = m.text;
  }

  async function saveMemory() {
    if (!selectedMemory) return;
    try {
      await api("/api/memories/" + selectedMemory, {
        method: "PATCH", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ text: $("mem-edit").value }),
      });
      status("mem-status", "Saved.");
      refreshMemories();
    } catch (e) { status("mem-status", e.message, true); }
  }

  async function deleteMemory() {
    if (!selectedMemory) return;
    try {
      await api("/api/memories/" + selectedMemory, { method: "DELETE" });
      selectedMemory = null;
      $("mem-detail").hidden = true;
      status("mem-status", "Forgotten.");
      refreshMemories();
    } catch (e) { status("mem-status", e.message, true); }
  }

  async function forgetAll() {
    if (!window.confirm("Forget everything this profile remembers?")) return;
    const r = await api("/api/memories/forget", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ all: true }),
    });
    status("mem-status", "Forgot " + (await r.json()).forgotten + ".");
    refreshMemories();
  }

  async function refreshChat() {
    try {
      await loadPersonas();
      await loadConversations();
      await refreshMemories();
    } catch (e) { status("chat-status", e.message, true); }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("tab-chat").addEventListener("click", refreshChat);
    $("chat-form").addEventListener("submit", send);
    $("chat-stop").addEventListener("click", () => chatAbort && chatAbort.abort());
    $("chat-persona").addEventListener("change", () => { openConversation(""); loadConversations(); refreshMemories(); });
    $("chat-conversation").addEventListener("change", (e) => openConversation(e.target.value));
    $("chat-input").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("chat-form").requestSubmit(); }
    });
    $("mem-form").addEventListener("submit", refreshMemories);
    $("mem-save").addEventListener("click", saveMemory);
    $("mem-delete").addEventListener("click", deleteMemory);
    $("mem-forget-all").addEventListener("click", forgetAll);
  });
})();
