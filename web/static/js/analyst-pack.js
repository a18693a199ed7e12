// The quarterly performance pack of one CSP: the headline figures (each dataset's quarter against the quarter
// before and the same quarter a year before, /v1/trends), the RAG scorecard (/v1/scorecard as of the quarter's last
// month), the trends over two years (/v1/trends, a chart and its table) and the hot spots of the first dataset
// (/v1/hotspots, a map and its table). Each section fails on its own, naming the problem.
import { addMonths, csvURL, drawn, getJSON, markSuppressed, renderTable, small, withQuery } from "/static/js/hub.js";
import {
  clause, comparedCount, chart, downloadLink, fixed, hotspotMap, orSuppressed, renderHotspotTable, renderScorecard, showProblem,
} from "/static/js/analyst-figures.js";

function download(list, href, label) {
  const item = document.createElement("li");
  item.append(downloadLink(href, label));
  list.append(item);
}

const change = (c) => (c.percent_change === null ? (c.note ?? (c.count === null ? "suppressed" : "")) : `${c.absolute_change > 0 ? "+" : ""}${c.absolute_change} (${fixed(1)(c.percent_change)}%)${c.significant ? ", significant" : ""}${c.indicative ? ", indicative" : ""}`);

const HEADLINE = [
  { key: "dataset", label: "Dataset" },
  { key: "period", label: "Quarter" },
  { key: "count", label: "Count", numeric: true, format: orSuppressed() },
  { key: "previous", label: "Change on the quarter before", format: (v) => change(v) },
  { key: "year_ago", label: "Change on the same quarter last year", format: (v) => change(v) },
];

const TRENDS = [
  { key: "dataset", label: "Dataset" },
  { key: "period", label: "Quarter" },
  { key: "count", label: "Count", numeric: true, format: orSuppressed() },
  { key: "previous_count", label: "Quarter before", numeric: true, format: (_, r) => comparedCount(r.previous) },
  { key: "year_ago_count", label: "Same quarter last year", numeric: true, format: (_, r) => comparedCount(r.year_ago) },
];

async function main() {
  // The form holds the page's parameters (from its URL), or the route's defaults when the URL has none.
  const csp = document.getElementById("field-csp").value;
  const quarter = document.getElementById("field-quarter").value;
  if (!csp || !quarter) return;
  const datasets = [...document.querySelectorAll('input[name="dataset"]:checked')].map((box) => box.value);
  const last = addMonths(quarter, 2);
  document.getElementById("pack").hidden = false;
  document.getElementById("pack-title").textContent = `Quarterly performance pack: ${csp}, ${quarter} to ${last}`;
  const downloads = document.getElementById("downloads");

  const trendParams = (dataset) => ({ dataset, from: addMonths(quarter, -21), to: last, level: "csp", area: csp, period: "quarter" });
  const scoreParams = { csp, as_of: last };
  const spotParams = { dataset: datasets[0], from: quarter, to: last, area: csp, area_level: "csp", level: "ward" };
  // Every section's call starts at once; each section is drawn as its answer comes, the headline first.
  const trendsAsked = datasets.map((dataset) =>
    getJSON(withQuery("/v1/trends", trendParams(dataset))).then(
      (body) => ({ dataset, body }),
      (error) => {
        showProblem(error, `Trends of ${dataset}`);
        return { dataset, error };
      },
    ),
  );
  const scorecardAsked = getJSON(withQuery("/v1/scorecard", scoreParams));
  const spotsAsked = datasets.length ? getJSON(withQuery("/v1/hotspots", spotParams)) : null;
  scorecardAsked.catch(() => {});
  spotsAsked?.catch(() => {});

  const answered = (await Promise.all(trendsAsked)).filter((t) => t.body);
  const headline = [];
  const history = [];
  for (const { dataset, body } of answered) {
    const rows = body.rows.filter((r) => r.area_code === csp).map((r) => ({ ...r, dataset: r.dataset ?? dataset }));
    const current = body.periods.at(-1);
    headline.push(...rows.filter((r) => r.period === current));
    history.push(...rows);
    download(downloads, csvURL("/v1/trends", trendParams(dataset)), `Trends of ${dataset} (CSV)`);
  }
  small(markSuppressed(renderTable(document.getElementById("headline"), `Headline figures, ${csp}, ${quarter} to ${last}`, HEADLINE, headline)));
  document.getElementById("headline-rule").textContent = answered.length
    ? `Disclosure control: ${[...new Set(answered.map((t) => clause(t.body.disclosure.rule)))].join("; ")}. ${answered[0].body.method}`
    : "";
  drawn(); // the headline table: the pack's first meaningful drawing
  small(markSuppressed(renderTable(document.getElementById("trends"), `Counts by quarter, ${csp}`, TRENDS, history)));
  const plotted = history.filter((r) => r.count !== null);
  chart(document.getElementById("trends-chart"), `Counts by quarter and dataset, ${csp}; the table below has the exact figures`, plotted, (Plot) =>
    Plot.plot({
      width: 900,
      height: 300,
      y: { grid: true, label: "Count" },
      color: { legend: true },
      marks: [Plot.lineY(plotted, { x: "period", y: "count", stroke: "dataset" }), Plot.dot(plotted, { x: "period", y: "count", fill: "dataset" })],
    }),
  );

  try {
    const body = await scorecardAsked;
    renderScorecard(document.getElementById("scorecard"), `Scorecard of ${csp}, data to ${last}`, body);
    download(downloads, csvURL("/v1/scorecard", scoreParams), "Scorecard (CSV)");
  } catch (error) {
    showProblem(error, "Scorecard");
  }

  if (spotsAsked) {
    const path = withQuery("/v1/hotspots", spotParams);
    try {
      const body = await spotsAsked;
      renderHotspotTable(document.getElementById("hotspots"), `Gi* hot spots of ${datasets[0]} by ward, ${body.period}`, body);
      document.getElementById("map-rule").textContent = `Counts released under ${clause(body.disclosure.rule)}. Gi* used the ${clause(body.method.counts)}.`;
      hotspotMap(document.getElementById("map"), document.getElementById("legend"), body);
      download(downloads, csvURL("/v1/hotspots", spotParams), `Hot spots of ${datasets[0]} (CSV)`);
      download(downloads, path, `Hot spots of ${datasets[0]}, the map (GeoJSON)`);
    } catch (error) {
      showProblem(error, `Hot spots of ${datasets[0]}`);
    }
  }
}

main().finally(drawn); // the whole pack (a second mark when the headline came first)
