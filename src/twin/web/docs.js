// twin API reference: fetch the schema with the user's key (the schema is not public), then hand it to
// Swagger UI with a request interceptor that adds the key to every "Try it out" call. The key is the web
// UI's (same storage) or the one typed here; it never goes into a URL.
"use strict";

const KEY_STORE = "twin.apiKey";

function status(text, isError) {
  const el = document.getElementById("docs-status");
  el.textContent = text;
  el.classList.toggle("error", !!isError);
}

async function showReference(key) {
  status("Loading the reference…");
  let res;
  try {
    res = await fetch("/api/openapi.json", { headers: { Authorization: "Bearer " + key } });
  } catch (e) {
    status("The server did not answer: " + e.message, true);
    return false;
  }
  if (res.status === 401) { status("That key was not accepted.", true); return false; }
  if (!res.ok) { status("The schema could not be loaded (HTTP " + res.status + ").", true); return false; }
  const spec = await res.json();
  sessionStorage.setItem(KEY_STORE, key);
  const ui = window.SwaggerUIBundle({
    spec,
    dom_id: "#swagger",
    deepLinking: true,
    tryItOutEnabled: false,
    requestInterceptor: (req) => {
      if (new URL(req.url, location.href).origin === location.origin) req.headers.Authorization = "Bearer " + key;
      return req;
    },
  });
  ui.preauthorizeApiKey("ApiKey", key);
  document.getElementById("docs-auth").classList.add("loaded");
  status("Reference loaded; requests you try here use your key.");
  return true;
}

document.addEventListener("DOMContentLoaded", () => {
  if (!window.SwaggerUIBundle) {
    status("Swagger UI is missing from this installation: pip install 'twin[server]'.", true);
    return;
  }
  document.getElementById("docs-key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    showReference(document.getElementById("docs-key").value.trim());
  });
  const known = sessionStorage.getItem(KEY_STORE) || localStorage.getItem(KEY_STORE);
  if (known) showReference(known);
});
