// The CSP scorecard page: /v1/scorecard for the CSP (and month) in the page's URL, as a table with a CSV link.
import { csvURL, drawn, getJSON, withQuery } from "/static/js/hub.js";
import { clause, renderScorecard, showDownloads, showProblem } from "/static/js/analyst-figures.js";

async function main() {
  // The form holds the page's parameters (from its URL), or the analyst's first CSP when the URL has none.
  const csp = document.getElementById("field-csp").value;
  const as_of = document.getElementById("field-as_of").value;
  if (!csp) return;
  const params = { csp, as_of };
  try {
    const body = await getJSON(withQuery("/v1/scorecard", params));
    renderScorecard(document.getElementById("table"), `Scorecard of ${body.csp}`, body);
    const rules = [...new Set(body.rows.map((r) => r.disclosure).filter(Boolean).map(clause))];
    const rule = document.getElementById("rule");
    rule.textContent = rules.length ? `Disclosure control applied: ${rules.join("; ")}.` : "No figure was released.";
    rule.hidden = false;
    showDownloads(document.getElementById("downloads"), [
      { href: csvURL("/v1/scorecard", params), label: "Download this scorecard (CSV)" },
    ]);
  } catch (error) {
    showProblem(error);
  }
}

main().finally(drawn);
