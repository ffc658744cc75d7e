// The nurse-station board: renders server-sent snapshots of open alerts and sends
// acknowledgements. EventSource reconnects on its own; the badge says when it does.
"use strict";

const tiles = document.getElementById("tiles");
const empty = document.getElementById("empty");
const connection = document.getElementById("connection");
const tileTemplate = document.getElementById("tile-template");
const alertTemplate = document.getElementById("alert-template");
let clockSkewMs = 0;
// A personal link carries the acknowledging user's token in the fragment (never sent
// in requests for pages); it is kept for this tab only.
if (location.hash.startsWith("#token=")) {
  sessionStorage.setItem("vasowatch-token", decodeURIComponent(location.hash.slice(7)));
  history.replaceState(null, "", location.pathname);
}

function setConnection(state, text) {
  connection.dataset.state = state;
  connection.textContent = text;
}

function since(iso) {
  const minutes = Math.max(0, Math.floor((Date.now() + clockSkewMs - Date.parse(iso)) / 60000));
  if (minutes < 60) return `firing for ${minutes} min`;
  return `firing for ${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function label(key) {
  return key.replaceAll("_", " ");
}

function renderAlert(alert, bedId) {
  const node = alertTemplate.content.firstElementChild.cloneNode(true);
  node.dataset.alertId = alert.alert_id;
  node.dataset.rule = alert.rule_id;
  node.dataset.status = alert.status;
  const badge = node.querySelector(".badge");
  badge.dataset.severity = alert.severity;
  badge.textContent = alert.severity.toUpperCase();
  node.querySelector(".title").textContent = alert.title;
  node.querySelector(".recommendation").textContent = alert.recommendation;
  const evidence = node.querySelector(".evidence");
  for (const [key, value] of Object.entries(alert.evidence || {})) {
    if (value === null || typeof value === "object") continue;
    const dt = document.createElement("dt");
    dt.textContent = label(key);
    const dd = document.createElement("dd");
    dd.textContent = typeof value === "number" ? String(Math.round(value * 1000) / 1000) : String(value);
    evidence.append(dt, dd);
  }
  const sinceNode = node.querySelector(".since");
  sinceNode.dataset.started = alert.started_at;
  sinceNode.textContent = since(alert.started_at);
  node.querySelector(".ack-state").textContent =
    alert.status === "acknowledged" ? `acknowledged by ${alert.acknowledged_by || "?"}` : "";
  const button = node.querySelector(".ack");
  button.setAttribute("aria-label", `Acknowledge ${alert.title} on bed ${bedId}`);
  button.addEventListener("click", () => acknowledge(bedId, alert.alert_id, button));
  return node;
}

function render(snapshot) {
  clockSkewMs = snapshot.server_time - Date.now();
  const nodes = snapshot.tiles.map((tile) => {
    const node = tileTemplate.content.firstElementChild.cloneNode(true);
    node.dataset.bed = tile.bed_id;
    node.dataset.severity = tile.severity;
    node.classList.toggle("lost", tile.feed_lost);
    node.querySelector(".bed").textContent = tile.bed_id;
    node.querySelector(".feed-lost").hidden = !tile.feed_lost;
    node.querySelector(".alerts").append(...tile.alerts.map((a) => renderAlert(a, tile.bed_id)));
    return node;
  });
  tiles.replaceChildren(...nodes);
  empty.hidden = nodes.length > 0;
  if (!snapshot.kafka.connected) setConnection("kafka-lost", "Alerts feed lost: retrying");
  else if (!snapshot.kafka.caught_up) setConnection("connecting", "Loading open alerts…");
  else setConnection("live", "Live");
}

async function acknowledge(bedId, alertId, button) {
  button.disabled = true;
  try {
    const reply = await fetch("/api/ack", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "X-Vasowatch-Board": "1",
        ...(sessionStorage.getItem("vasowatch-token")
          ? { Authorization: `Bearer ${sessionStorage.getItem("vasowatch-token")}` }
          : {}),
      },
      body: JSON.stringify({ bed_id: bedId, alert_id: alertId }),
    });
    if (!reply.ok) throw new Error((await reply.json()).error || reply.statusText);
    button.textContent = "Sent";
  } catch (error) {
    button.disabled = false;
    button.textContent = `Retry (${error.message})`;
  }
}

function connect() {
  const source = new EventSource("/events");
  source.addEventListener("snapshot", (event) => render(JSON.parse(event.data)));
  source.addEventListener("open", () => {
    if (connection.dataset.state === "reconnecting") setConnection("connecting", "Reconnected");
  });
  source.addEventListener("error", () => setConnection("reconnecting", "Connection lost: reconnecting"));
}

setInterval(() => {
  for (const node of document.querySelectorAll(".since[data-started]")) {
    node.textContent = since(node.dataset.started);
  }
}, 15000);

connect();
