// The partner's page: its own feeds' data quality (/v1/dq), what the protocols let flow from them
// (/v1/partner/flows) and its publishing settings (/v1/partner/settings). Every figure is the API's; the page only
// lays them out.
import {
  csvURL, drawn, errorSummary, getJSON, pageParams, renderTable, say, small, summaryList, withQuery,
} from "/static/js/hub.js";

const STATUS = {
  ok: "OK",
  low: "Low: under half the usual week",
  silent: "Silent: nothing in the last 7 days",
  no_data: "No data received",
};
const OUTPUT = { record_level: "Records", aggregates_only: "Counts only" };

/** `renderTable` in the smaller type of dense tables (the page's tables are wide). */
function denseTable(container, caption, columns, rows) {
  small(renderTable(container, caption, columns, rows));
}

/** A share of events as a percentage; a feed without events has no share (never 0). */
export function percent(share) {
  return share === null || share === undefined ? "no events" : `${(share * 100).toFixed(1)}%`;
}

/** A moment from the API (ISO 8601, UTC) to the minute; none: never. */
export function moment(iso) {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : "never";
}

const problems = [];

function showProblem(section, error) {
  problems.push(`${section}: ${error.message}`);
  const summary = errorSummary(problems);
  document.getElementById("problems").replaceChildren(summary);
  summary.focus();
}

function drawQuality(report) {
  const feeds = report.feeds;
  const quality = document.getElementById("quality");
  if (feeds.length === 0) {
    say(quality, "No feed of yours matches: no protocol names you as the data owner of this dataset.");
    return;
  }
  denseTable(quality, `Data quality of your feeds (late: more than ${report.late_days} days after the period)`, [
    { key: "dataset", label: "Dataset" },
    { key: "status", label: "Status", format: (v, row) => STATUS[row.volume.status] ?? row.volume.status },
    { key: "last_seen", label: "Last seen", format: (v, row) => moment(row.volume.last_seen) },
    { key: "events", label: "Events", numeric: true },
    { key: "released", label: "Released", numeric: true },
    { key: "withheld", label: "Withheld", numeric: true },
    { key: "geocodable", label: "Geocodable", numeric: true, format: (v, row) => `${v} (${percent(row.geocodable_share)})` },
    { key: "duplicates", label: "Duplicates", numeric: true },
    { key: "late", label: "Late", numeric: true, format: (v, row) => `${v} (${percent(row.late_share)})` },
    { key: "retracted", label: "Retracted", numeric: true },
    { key: "dead_lettered", label: "Not loaded", numeric: true },
  ], feeds);

  const weeks = [8, 7, 6, 5, 4, 3, 2, 1];
  denseTable(document.getElementById("volume"), "Events received per week", [
    { key: "dataset", label: "Dataset" },
    ...weeks.map((n) => ({
      key: `week_${n}`, label: `${n} week${n > 1 ? "s" : ""} before`, numeric: true,
      format: (v, row) => row.volume.weekly[n - 1],
    })),
    { key: "last_7_days", label: "Last 7 days", numeric: true, format: (v, row) => row.volume.last_7_days },
    { key: "usual_weekly", label: "Usual week", numeric: true, format: (v, row) => row.volume.usual_weekly },
  ], feeds);

  const fields = feeds.flatMap((feed) => feed.completeness.map((c) => ({ dataset: feed.dataset, ...c })));
  denseTable(document.getElementById("completeness"), "Completeness by field: events with the field filled in", [
    { key: "dataset", label: "Dataset" },
    { key: "field", label: "Field" },
    { key: "present", label: "Filled in", numeric: true },
    { key: "share", label: "Share", numeric: true, format: percent },
  ], fields);

  drawVolumeChart(feeds, weeks);
}

function drawVolumeChart(feeds, weeks) {
  if (typeof window.Plot === "undefined") return;  // the chart only repeats the table
  const bars = feeds.flatMap((feed) => [
    ...weeks.map((n) => ({ dataset: feed.dataset, week: `-${n}`, events: feed.volume.weekly[n - 1] })),
    { dataset: feed.dataset, week: "last 7 days", events: feed.volume.last_7_days },
  ]);
  const order = [...weeks.map((n) => `-${n}`), "last 7 days"];
  const figure = document.getElementById("volume-figure");
  figure.hidden = false;
  const chart = window.Plot.plot({
    width: Math.max(figure.clientWidth, 480),
    height: 110 * feeds.length + 50,
    marginLeft: 50,
    marginRight: 160,
    x: { domain: order, label: "week" },
    y: { label: "events", grid: true },
    fy: { label: null },
    marks: [
      window.Plot.barY(bars, { x: "week", y: "events", fy: "dataset", fill: "#1d70b8" }),
      window.Plot.ruleY(feeds, { y: (f) => f.volume.usual_weekly, fy: "dataset", stroke: "#d4351c" }),
    ],
  });
  document.getElementById("volume-chart").replaceChildren(chart);
}

function drawFlows(flows) {
  const container = document.getElementById("flows");
  if (flows.length === 0) {
    say(container, "No protocol lets anything flow from this feed.");
    return;
  }
  denseTable(container, "What the protocols let flow from your feeds, to whom", [
    { key: "dataset", label: "Dataset" },
    { key: "recipient_name", label: "Recipient" },
    { key: "fields", label: "Fields", format: (v) => v.join(", ") },
    { key: "spatial_precision", label: "Location", format: (v) => v ?? "not shared" },
    { key: "temporal_precision", label: "Time", format: (v) => v ?? "not shared" },
    { key: "output", label: "As", format: (v) => OUTPUT[v] ?? v },
    { key: "disclosure", label: "Disclosure rule on counts" },
    { key: "protocol", label: "Protocol and clause", format: (v, row) => `${v} § ${row.clause}` },
    { key: "in_force", label: "In force", format: (v, row) => (v ? "Yes" : `No: ${row.not_in_force_reason}`) },
  ], flows);
}

function drawSettings(settings) {
  const container = document.getElementById("settings");
  const list = summaryList([
    ["Partner id", settings.partner],
    ["Broker username", settings.username],
    ["Topic prefix", settings.topic_prefix],
    ["Broker address", "given by the hub operator"],
  ]);
  const table = document.createElement("div");
  denseTable(table, "Your datasets and the topics they are published on", [
    { key: "dataset", label: "Dataset" },
    { key: "topic", label: "Topic" },
    { key: "command", label: "Command", format: (v, row) => `hub publish ${row.dataset} FILE --partner ${settings.partner}` },
    { key: "protocols", label: "Under protocols", format: (v) => v.join(", ") },
  ], settings.feeds);
  container.replaceChildren(list, table);
  const first = settings.feeds[0]?.dataset ?? "DATASET";
  document.getElementById("publish-command").textContent = [
    "export HUB_KAFKA_BOOTSTRAP='<broker address from the hub operator>'",
    `export HUB_KAFKA_TOPIC_PREFIX='${settings.topic_prefix}'`,
    `export HUB_KAFKA_USERNAME='${settings.username}'`,
    "export HUB_KAFKA_PASSWORD='<your broker password>'",
    "export HUB_KAFKA_CA_FILE='<the hub CA file from the operator>'",
    `hub publish ${first} export.csv --partner ${settings.partner}`,
  ].join("\n");
}

async function main() {
  const params = pageParams();
  const dataset = params.dataset || undefined;
  document.getElementById("flows-csv").href = csvURL("/v1/partner/flows", { dataset });
  const sections = [
    ["Data quality", getJSON(withQuery("/v1/dq", { dataset, late_days: params.late_days })), drawQuality, "quality"],
    ["Flows", getJSON(withQuery("/v1/partner/flows", { dataset })), drawFlows, "flows"],
    ["Publishing settings", getJSON("/v1/partner/settings"), drawSettings, "settings"],
  ];
  for (const [name, request, draw, id] of sections) {
    try {
      draw(await request);
    } catch (error) {
      say(document.getElementById(id), "Not available: see the problem at the top of the page.");
      showProblem(name, error);
    }
  }
  drawn();
}

main();
