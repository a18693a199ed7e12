// The analyst's trends: GET /v1/trends for a dataset (and category) by month, quarter, financial year or rolling 12
// months, over the analyst's areas or one of them: each period's count with the change on the previous period and
// on a year before, significance and "indicative" as the API gives them; chart, table, CSV and permalink.
import { addMonths, csvURL, drawn, figure, getJSON, markSuppressed, pageParams, renderTable, withQuery } from "/static/js/hub.js";
import {
  boundingAreas, change, comparedCount, fillForm, keepPermalink, sentence, setStatus, showProblem,
} from "/static/js/analyst-query.js";

const Plot = window.Plot;
const PERIOD_NAMES = { month: "month", quarter: "quarter", financial_year: "financial year", rolling_12: "rolling 12 months" };

function areaChoices(areas, chosen) {
  const select = document.getElementById("area");
  select.replaceChildren();
  const all = document.createElement("option");
  all.value = "";
  all.textContent = "All your areas";
  select.appendChild(all);
  for (const area of areas.areas) {
    const entry = document.createElement("option");
    entry.value = area.area_code;
    entry.textContent = `${area.area_name} (${area.area_code})`;
    entry.selected = area.area_code === chosen;
    select.appendChild(entry);
  }
  return areas.areas.some((a) => a.area_code === chosen) ? chosen : "";
}

function chart(container, rows, periodName) {
  container.replaceChildren();
  const shown = rows.filter((r) => r.count !== null);
  if (!Plot || !shown.length) return;
  const significant = (r) => r.previous.significant || r.year_ago.significant;
  const plot = Plot.plot({
    width: Math.max(480, container.clientWidth || 640),
    height: 320,
    marginLeft: 60,
    marginBottom: 60,
    color: { legend: new Set(shown.map((r) => r.area_name)).size > 1 },
    x: { type: "point", label: periodName, tickRotate: -30 },
    y: { grid: true, label: "Count", zero: true },
    marks: [
      Plot.lineY(shown, { x: "period", y: "count", stroke: "area_name", z: "area_name" }),
      Plot.dot(shown, { x: "period", y: "count", stroke: "area_name", fill: (r) => (significant(r) ? "#d4351c" : "white"), r: 4 }),
      Plot.dot(shown.filter((r) => r.previous.indicative || r.year_ago.indicative), { x: "period", y: "count", symbol: "diamond", stroke: "#505a5f", r: 7 }),
    ],
  });
  plot.setAttribute("aria-hidden", "true");
  const caption = document.createElement("figcaption");
  caption.className = "govuk-body-s";
  caption.textContent = `Count by ${periodName}: red dots mark a significant change on the previous period or a year before, ` +
    "diamonds an indicative figure (a small base). The table below has every figure.";
  container.append(plot, caption);
}

async function main() {
  const params = pageParams();
  const datasets = await getJSON("/v1/datasets");
  const state = fillForm(params, datasets, { level: "lad", period: "month", area: "" });
  if (!state.dataset) throw new Error("None of the protocols in force lets you count any dataset.");
  if (!params.from && state.to) {
    const chosen = datasets.find((d) => d.dataset === state.dataset);
    const from = addMonths(state.to, -23); // two years: a year-ago comparison for the second
    state.from = chosen.first_month > from ? chosen.first_month : from;
    document.getElementById("from").value = state.from;
  }
  const areas = await getJSON(withQuery("/v1/areas", { level: state.level }));
  state.area = areaChoices(areas, params.area);
  keepPermalink(state);
  const bound = state.area ? { area: state.area, area_level: state.level } : boundingAreas(areas);
  const query = {
    dataset: state.dataset, category: state.category, level: state.level, from: state.from, to: state.to,
    period: state.period, ...bound,
  };
  document.getElementById("csv").href = csvURL("/v1/trends", query);
  const body = await getJSON(withQuery("/v1/trends", query));
  const periodName = PERIOD_NAMES[state.period] ?? state.period;
  document.getElementById("caption").textContent =
    `${state.dataset}${state.category ? `, ${state.category}` : ""}, ${state.from} to ${state.to}, by ${periodName}. ` +
    `Test: ${sentence(body.method)} Disclosure rule applied: ${sentence(body.disclosure.rule)} Changes are indicative where a count is below ` +
    `${body.indicative_below}; significant at p < ${body.alpha}.`;
  chart(document.getElementById("chart"), body.rows, periodName);
  const rows = body.rows.map((r) => ({
    area_name: r.area_name, period: r.period, count: figure(r.count),
    previous_period: r.previous.period, previous_count: comparedCount(r.previous), previous_change: change(r.previous),
    year_ago_period: r.year_ago.period, year_ago_count: comparedCount(r.year_ago), year_ago_change: change(r.year_ago),
  }));
  const table = renderTable(document.getElementById("table"), `Counts by ${periodName} and change (disclosure rule: ${body.disclosure.rule})`, [
    { key: "area_name", label: "Area" },
    { key: "period", label: "Period" },
    { key: "count", label: "Count", numeric: true },
    { key: "previous_period", label: "Previous period" },
    { key: "previous_count", label: "Its count", numeric: true },
    { key: "previous_change", label: "Change on previous period" },
    { key: "year_ago_period", label: "A year before" },
    { key: "year_ago_count", label: "Its count", numeric: true },
    { key: "year_ago_change", label: "Change on a year before" },
  ], rows);
  markSuppressed(table);
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const areaCount = new Set(body.rows.map((r) => r.area_code)).size;
  setStatus(`${plural(body.rows.length, "row")} shown (${plural(areaCount, "area")}, ${plural(body.periods.length, "period")}).`);
}

main().catch(showProblem).finally(drawn);
