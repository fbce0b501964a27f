// status.js - fills the status page from the JSON API and refreshes it every 2 s. No framework:
// every value goes into the DOM as text (textContent), never as markup.
"use strict";

const POLL_MS = 2000;

function el(tag, attrs, ...children) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v !== undefined && v !== null) e.setAttribute(k, v);
	}
	for (const c of children) {
		if (c === null || c === undefined) continue;
		e.append(c instanceof Node ? c : document.createTextNode(String(c)));
	}
	return e;
}

function bytes(n) {
	if (typeof n !== "number") return "";
	if (n >= 1048576) return (n / 1048576).toFixed(2) + " MiB";
	if (n >= 1024) return (n / 1024).toFixed(1) + " KiB";
	return n + " B";
}

function seconds(s) {
	if (typeof s !== "number") return "";
	return s < 60 ? s.toFixed(1) + " s" : Math.floor(s / 60) + " min " + Math.round(s % 60) + " s";
}

function fill(tbody, rows) {
	tbody.replaceChildren(...rows);
}

async function getJSON(path) {
	const resp = await fetch(path, { cache: "no-store" });
	if (!resp.ok) throw new Error(path + ": " + resp.status);
	return resp.json();
}

function renderImages(images) {
	const built = {};
	for (const b of images.built || []) {
		const recipe = (b.variant || "").split("+")[0];
		(built[recipe] = built[recipe] || []).push(b);
	}
	const rows = (images.recipes || []).map((r) => {
		const variants = (built[r.name] || []).map((b) =>
			el("span", { class: "variant", "data-variant": b.variant },
				el("a", { href: "/artifacts/" + b.artifact + "/manifest.json" }, el("code", {}, b.variant)),
				" ", el("span", { class: "size" },
					"bzImage " + bytes((b.sizes || {}).bzImage) + ", initrd " + bytes((b.sizes || {}).initrd))));
		return el("tr", { "data-recipe": r.name },
			el("td", {}, el("code", {}, r.name)),
			el("td", {}, r.arch || ""),
			el("td", {}, r.error ? "broken recipe: " + r.error : r.description || ""),
			el("td", {}, ...(variants.length ? variants : ["not built"])));
	});
	fill(document.querySelector("#images tbody"), rows);
}

function renderBuilds(list) {
	const builds = list.builds || [];
	const rows = builds.map((b) => {
		const p = b.progress || {};
		const bar = b.state === "running" || b.state === "queued"
			? el("progress", { max: p.objects_expected || 1, value: p.objects_done || 0 })
			: null;
		const count = p.objects_expected ? " " + (p.objects_done || 0) + "/" + p.objects_expected : "";
		const log = b.artifact
			? el("a", { href: "/artifacts/" + b.artifact + "/build.log" }, "build.log")
			: el("a", { href: "/images/" + encodeURIComponent(b.variant) + "/build.log" }, "build.log");
		return el("tr", { "data-build": b.id, "data-variant": b.variant, "data-state": b.state },
			el("td", {}, el("code", {}, b.variant)),
			el("td", { class: "state-" + b.state }, b.state),
			el("td", {}, b.step || "", b.error ? " — " + b.error : ""),
			el("td", {}, bar, count),
			el("td", {}, seconds(b.elapsed_s)),
			el("td", {}, log));
	});
	fill(document.querySelector("#builds tbody"), rows);
	document.getElementById("builds-empty").hidden = builds.length > 0;
}

function timeline(boot) {
	const items = (boot.events || []).map((e) =>
		el("li", { "data-event": e.state },
			e.state + (typeof e.after_s === "number" ? " +" + e.after_s.toFixed(1) + " s" : "")));
	return el("ol", { class: "timeline" }, ...items);
}

function verdicts(report) {
	if (!report || !Array.isArray(report.payloads)) return "";
	return el("span", {}, ...report.payloads.map((p) => {
		const ok = p.ok === true || p.verdict === "ok";
		return el("span", { class: ok ? "verdict-ok" : "verdict-failed", "data-payload": p.name },
			(ok ? "✓ " : "✗ ") + p.name + " ");
	}));
}

function machineList(data) {
	// either {"machines": {...}} or the machines themselves, keyed by name
	const map = data && typeof data.machines === "object" && !Array.isArray(data.machines) ? data.machines : data;
	return Object.entries(map || {}).filter(([, v]) => v && typeof v === "object");
}

// what PUT /api/v1/machines/NAME/next set: a variant once, or the local disk until cleared
function nextBoot(next) {
	if (!next || typeof next !== "object")
		return "";
	if (next.action === "local")
		return el("span", { "data-next": "local" }, "local disk");
	return next.variant ? el("span", { "data-next": "variant" }, "once: ", el("code", {}, next.variant)) : "";
}

function renderMachines(data) {
	const list = machineList(data).sort(([a], [b]) => a.localeCompare(b));
	const rows = list.map(([name, m]) => {
		const result = m.result || "pending";
		const when = typeof m.created === "number" ? new Date(m.created * 1000).toLocaleString() : "";
		return el("tr", { "data-machine": name, "data-result": result },
			el("td", {}, el("code", {}, name), m.mac ? el("div", { class: "size mono" }, m.mac) : null),
			el("td", {}, el("code", {}, m.variant || "")),
			el("td", {}, m.firmware || "unknown"),
			el("td", {}, el("div", { class: "size" }, when), timeline(m)),
			el("td", { class: "result-" + result.replace(/ /g, "-") }, result, m.reason ? ": " + m.reason : ""),
			el("td", {}, verdicts(m.report)),
			el("td", { class: "next" }, nextBoot(m.next)));
	});
	fill(document.querySelector("#machines tbody"), rows);
	document.getElementById("machines-empty").hidden = list.length > 0;
}

async function poll() {
	const parts = [
		["/healthz", (h) => {
			document.getElementById("daemon").textContent =
				(h.status || "?") + ", up " + seconds(h.uptime_s || 0);
		}],
		["/api/v1/images", renderImages],
		["/api/v1/builds", renderBuilds],
		["/api/v1/machines", renderMachines],
	];
	let failed = 0;
	await Promise.all(parts.map(async ([path, render]) => {
		try {
			render(await getJSON(path));
		} catch (e) {
			failed++;
			console.error(e);
		}
	}));
	document.getElementById("updated").textContent =
		(failed ? failed + " request(s) failed, " : "") + "updated " + new Date().toLocaleTimeString();
	document.body.dataset.loaded = String(Number(document.body.dataset.loaded) + 1);
	setTimeout(poll, POLL_MS);
}

poll();
