// The analyst's map: a choropleth of GET /v1/counts or /v1/rates (GeoJSON) over the analyst's own areas, the
// suppressed areas hatched, the analyst's areas outlined (GET /v1/areas), hot spots (GET /v1/hotspots) as an
// optional layer, an area's trend (GET /v1/trends) on click, and the table of every figure as the API gave it.
import { csvURL, drawn, figure, getJSON, markSuppressed, pageParams, renderTable, summaryRows, withQuery } from "/static/js/hub.js";
import { boundingAreas, change, fillForm, keepPermalink, sentence, setStatus, showProblem } from "/static/js/analyst-query.js";

const L = window.L;
const Plot = window.Plot;
const PALETTE = ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"]; // ColorBrewer Blues, 5 classes
const NO_FIGURE = "#ffffff";
const HOT = { hot: "#d4351c", cold: "#1d70b8" };
const LEVEL_NAMES = { ward: "ward", lsoa: "LSOA", lad: "district" };

/** Up to five classes of the figures shown (quantiles of the distinct values): each {low, high, colour}. */
function classes(values) {
  const distinct = [...new Set(values)].sort((a, b) => a - b);
  if (!distinct.length) return [];
  const count = Math.min(PALETTE.length, distinct.length);
  const found = [];
  for (let i = 0; i < count; i += 1) {
    const low = distinct[Math.floor((i * distinct.length) / count)];
    const high = distinct[Math.floor(((i + 1) * distinct.length) / count) - 1];
    found.push({ low, high, colour: PALETTE[Math.round((i * (PALETTE.length - 1)) / Math.max(1, count - 1))] });
  }
  return found;
}

function classOf(value, found) {
  return found.find((c) => value >= c.low && value <= c.high) || found[found.length - 1];
}

function swatch(list, style, label) {
  const item = document.createElement("li");
  const box = document.createElement("span");
  box.className = "hub-legend__swatch";
  box.setAttribute("aria-hidden", "true");
  Object.assign(box.style, { display: "inline-block", width: "1.5em", height: "1em", verticalAlign: "middle" }, style);
  item.append(box, document.createTextNode(" " + label));
  list.appendChild(item);
}

function drawLegend(body, found, measure, digits) {
  const legend = document.getElementById("legend");
  legend.replaceChildren();
  const heading = document.createElement("h2");
  heading.className = "govuk-heading-s";
  heading.textContent = measure === "rates" ? `Rate per ${body.per ?? 1000}: ${body.denominator ?? "residents"}` : "Count";
  const list = document.createElement("ul");
  list.className = "govuk-list hub-legend__list";
  for (const c of found) {
    const text = c.low === c.high ? figure(c.low, digits) : `${figure(c.low, digits)} to ${figure(c.high, digits)}`;
    swatch(list, { background: c.colour }, text);
  }
  swatch(list, { backgroundColor: "#f3f2f1", backgroundImage: "repeating-linear-gradient(45deg, #b1b4b6 0 2px, transparent 2px 6px)" },
    "suppressed (disclosure control)");
  if (measure === "rates") swatch(list, { background: NO_FIGURE, border: "1px solid #b1b4b6" }, "no rate (no population figure)");
  swatch(list, { background: "transparent", border: "3px solid #0b0c0c" }, "your areas");
  const rule = document.createElement("p");
  rule.className = "govuk-body-s";
  const disclosure = body.disclosure || {};
  rule.textContent = `Disclosure rule applied: ${sentence(disclosure.rule ?? "not stated")}` +
    (disclosure.suppressed !== undefined ? ` Figures suppressed: ${disclosure.suppressed}.` : "") +
    (disclosure.withheld?.length ? ` Withheld: ${disclosure.withheld.join("; ")}.` : "");
  legend.append(heading, list, rule);
}

function hatch() {
  return { fillColor: "url(#hub-hatch)", fillOpacity: 1 };
}

function trendChart(container, rows) {
  container.replaceChildren();
  const shown = rows.filter((r) => r.count !== null);
  if (!Plot || !shown.length) return;
  const chart = Plot.plot({
    width: Math.max(480, container.clientWidth || 640),
    height: 200,
    marginLeft: 50,
    x: { type: "point", label: "Period" },
    y: { grid: true, label: "Count", zero: true },
    marks: [
      Plot.lineY(shown, { x: "period", y: "count", stroke: "#1d70b8", z: null }),
      Plot.dot(shown, { x: "period", y: "count", fill: (r) => (r.previous.significant ? "#d4351c" : "#1d70b8") }),
    ],
  });
  chart.setAttribute("aria-hidden", "true");
  const caption = document.createElement("figcaption");
  caption.className = "govuk-body-s";
  caption.textContent = "Count by month (red dots: a significant change on the previous month); the table below has every figure.";
  container.append(chart, caption);
}

async function showArea(properties, state, measure) {
  state.area = properties.area_code;
  keepPermalink(state);
  const section = document.getElementById("area");
  section.hidden = false;
  document.getElementById("area-title").textContent = `${properties.area_name} (${properties.area_code})`;
  const entries = [["Count", figure(properties.count)]];
  if (measure === "rates") {
    entries.push(["Population", figure(properties.population)], ["Rate", properties.rate === null && properties.count !== null ? properties.note || "no rate" : figure(properties.rate, 2)]);
    if (properties.rate !== null) entries.push(["95% interval", `${figure(properties.rate_lower, 2)} to ${figure(properties.rate_upper, 2)}`]);
  }
  document.getElementById("area-figures").replaceChildren(...summaryRows(entries));
  const trendTable = document.getElementById("area-table");
  try {
    const trends = await getJSON(withQuery("/v1/trends", {
      dataset: state.dataset, category: state.category, level: state.level, from: state.from, to: state.to,
      period: "month", area: properties.area_code,
    }));
    trendChart(document.getElementById("area-chart"), trends.rows);
    const table = renderTable(trendTable, `${properties.area_name}: count by month (${trends.disclosure.rule})`, [
      { key: "period", label: "Month" },
      { key: "count", label: "Count", numeric: true, format: (v) => figure(v) },
      { key: "previous", label: "Change on the previous month", format: (v) => change(v) },
      { key: "year_ago", label: "Change on a year before", format: (v) => change(v) },
    ], trends.rows);
    markSuppressed(table);
  } catch (error) {
    trendTable.textContent = `No trend: ${error.message}`;
  }
  section.scrollIntoView?.({ block: "nearest" });
}

async function main() {
  const params = pageParams();
  const [datasets, outline] = await Promise.all([getJSON("/v1/datasets"), getJSON(withQuery("/v1/areas", { format: "geojson" }))]);
  const state = fillForm(params, datasets, { level: "ward", measure: "counts", denominator: "persons", hotspots: "", area: "" });
  if (!state.dataset) throw new Error("None of the protocols in force lets you count any dataset.");
  const measure = state.measure === "rates" ? "rates" : "counts";
  keepPermalink(state);
  const bound = boundingAreas(outline);
  const query = {
    dataset: state.dataset, category: state.category, level: state.level, from: state.from, to: state.to,
    period: "all", ...bound,
  };
  if (state.measure === "rates") query.denominator = state.denominator;
  const csv = document.getElementById("csv");
  csv.href = csvURL(`/v1/${measure}`, query);
  const body = await getJSON(withQuery(`/v1/${measure}`, { ...query, format: "geojson" }));
  const valueKey = measure === "rates" ? "rate" : "count";
  const digits = measure === "rates" ? 2 : undefined;
  const features = body.features;
  const found = classes(features.map((f) => f.properties[valueKey]).filter((v) => v !== null && v !== undefined));

  drawLegend(body, found, measure, digits);

  const caption = document.getElementById("caption");
  caption.textContent = `${state.dataset}${state.category ? `, ${state.category}` : ""}, ${state.from} to ${state.to}, ` +
    `by ${LEVEL_NAMES[state.level] ?? state.level}; protocols: ${(body.protocols || []).join(", ")}`;

  const columns = [
    { key: "area_code", label: "Area code" },
    { key: "area_name", label: "Area" },
    { key: "count", label: "Count", numeric: true, format: (v) => figure(v) },
  ];
  if (measure === "rates") {
    columns.push(
      { key: "population", label: "Population", numeric: true, format: (v) => (v === null ? "no figure" : String(v)) },
      { key: "rate", label: `Rate per ${body.per ?? 1000}`, numeric: true, format: (v, r) => (r.count === null ? "suppressed" : v === null ? r.note || "no rate" : v.toFixed(2)) },
      { key: "rate_lower", label: "95% lower", numeric: true, format: (v, r) => (v === null ? (r.count === null ? "suppressed" : "") : v.toFixed(2)) },
      { key: "rate_upper", label: "95% upper", numeric: true, format: (v, r) => (v === null ? (r.count === null ? "suppressed" : "") : v.toFixed(2)) },
    );
  }
  const rows = features.map((f) => f.properties).sort((a, b) => a.area_name.localeCompare(b.area_name) || a.area_code.localeCompare(b.area_code));
  const table = renderTable(document.getElementById("table"),
    `${measure === "rates" ? "Rates" : "Counts"}, ${state.from} to ${state.to} (disclosure rule: ${body.disclosure?.rule ?? "not stated"})`,
    columns, rows);
  markSuppressed(table);
  linkAreas(table, rows, (properties) => showArea(properties, state, measure));

  const element = document.getElementById("map");
  const map = L.map(element, { renderer: L.svg(), zoomSnap: 0.25 });
  if (element.dataset.basemap) L.tileLayer(element.dataset.basemap, { maxZoom: 19 }).addTo(map);
  const style = (f) => {
    const value = f.properties[valueKey];
    const base = { color: "#505a5f", weight: 1, fillOpacity: 0.85 };
    if (f.properties.count === null) return { ...base, ...hatch() };
    if (value === null || value === undefined) return { ...base, fillColor: NO_FIGURE };
    return { ...base, fillColor: classOf(value, found).colour };
  };
  const choropleth = L.geoJSON(features.filter((f) => f.geometry), {
    style,
    onEachFeature: (f, layer) => {
      const value = f.properties.count === null ? "suppressed" : figure(f.properties[valueKey], digits);
      const tip = document.createElement("span"); // text, never markup: Leaflet writes a string tooltip as HTML
      tip.textContent = `${f.properties.area_name}: ${value}`;
      layer.bindTooltip(tip);
      layer.on("click", () => showArea(f.properties, state, measure));
    },
  }).addTo(map);
  const own = L.geoJSON(outline.features.filter((f) => f.geometry), {
    style: { color: "#0b0c0c", weight: 3, fill: false }, interactive: false,
  }).addTo(map);
  // Leaflet writes overlay names as HTML: only fixed words here, never a value from the URL.
  const overlays = { "Your areas": own, [`${measure === "rates" ? "Rates" : "Counts"} by ${LEVEL_NAMES[state.level] ?? "area"}`]: choropleth };
  const extent = own.getLayers().length ? own.getBounds() : choropleth.getBounds();
  if (extent.isValid()) map.fitBounds(extent);
  else map.setView([52.5, -1.5], 6);
  const selected = rows.find((r) => r.area_code === state.area);
  if (selected) await showArea(selected, state, measure);
  else if (state.area) {
    state.area = "";
    keepPermalink(state);
  }

  if (state.hotspots === "on") await drawHotspots(map, overlays, state, bound);
  L.control.layers(null, overlays, { collapsed: false }).addTo(map);
  setStatus(`${rows.length} ${rows.length === 1 ? "area" : "areas"} shown.`);
}

/** Each area's name in the table opens its figures and trend, as clicking it on the map does (keyboard users). */
function linkAreas(table, rows, open) {
  table.querySelectorAll("tbody tr").forEach((tr, i) => {
    const cell = tr.querySelector('td[data-key="area_name"]');
    const link = document.createElement("a");
    link.className = "govuk-link";
    link.href = "#area";
    link.textContent = cell.textContent;
    link.addEventListener("click", (event) => {
      event.preventDefault();
      open(rows[i]);
    });
    cell.replaceChildren(link);
  });
}

async function drawHotspots(map, overlays, state, bound) {
  const section = document.getElementById("hotspots-section");
  section.hidden = false;
  const method = document.getElementById("hotspots-method");
  if (!["ward", "lad"].includes(state.level) || !bound.area) {
    method.textContent = "Hot spots are worked out for wards or districts inside your areas: choose one of those levels.";
    return;
  }
  try {
    const spots = await getJSON(withQuery("/v1/hotspots", {
      dataset: state.dataset, category: state.category, level: state.level, from: state.from, to: state.to, ...bound,
    }));
    const layer = L.geoJSON(spots.features.filter((f) => f.geometry && f.properties.classification !== "not significant"), {
      style: (f) => ({ color: HOT[f.properties.classification.split(" ")[0]] || "#505a5f", weight: 4, fill: false, dashArray: "6 4" }),
      interactive: false,
    }).addTo(map);
    overlays["Hot spots (Gi*)"] = layer;
    method.textContent = `Red dashed outlines: hot spots; blue: cold spots. Disclosure rule applied: ${sentence(spots.disclosure?.rule ?? "not stated")} ` +
      `${spots.method?.statistic ?? ""}; weights: ${spots.method?.weights ?? ""}; counts: ${spots.method?.counts ?? ""}.`;
    const table = renderTable(document.getElementById("hotspots-table"), `Hot spots (Gi*), ${spots.period}`, [
      { key: "code", label: "Area code" },
      { key: "name", label: "Area" },
      { key: "count", label: "Count", numeric: true, format: (v) => figure(v) },
      { key: "z_score", label: "z-score", numeric: true, format: (v) => (v === null ? "" : v.toFixed(2)) },
      { key: "p_value", label: "p-value", numeric: true, format: (v) => (v === null ? "" : v.toFixed(3)) },
      { key: "classification", label: "Classification" },
    ], spots.features.map((f) => f.properties));
    markSuppressed(table);
  } catch (error) {
    method.textContent = `No hot spots: ${error.message}`;
  }
}

main().catch(showProblem).finally(drawn);
