// One protocol version: its terms, and each clause in plain words (GOV.UK summary lists), from the API.
import { drawn, getJSON, pageParams, say, summaryList, withQuery } from "/static/js/hub.js";
import { showError } from "/static/js/ig-shared.js";

function heading(level, text) {
  const h = document.createElement(level);
  h.className = level === "h2" ? "govuk-heading-m" : "govuk-heading-s";
  h.textContent = text;
  return h;
}

async function main() {
  const container = document.getElementById("terms");
  const id = document.getElementById("protocol").dataset.protocol;
  const params = pageParams();
  try {
    const body = await getJSON(withQuery(`/v1/ig/protocols/${encodeURIComponent(id)}`, { version: params.version }));
    const p = body.protocol;
    document.getElementById("protocol").textContent = `${p.title} (${p.label})`;
    const parts = [
      heading("h2", "Terms"),
      summaryList(
        [
          ["Version", `${p.version} (versions you may see: ${body.versions.join(", ")})`],
          ["Status", p.in_force ? `${p.status}, in force` : `${p.status}, not in force: ${p.not_in_force_reason}`],
          ["Valid from", p.valid_from],
          ["Review due", p.review_due],
          ["Expires", p.expires ?? "No expiry date"],
          ["DPIA reference", p.dpia_reference ?? "None given"],
          ["Data owners", p.data_owners],
          ["Recipients", p.recipients],
          ["Purposes", body.purposes],
          ["Legal gateways", body.legal_gateways],
          ["Retention", `${body.retention} after receipt`],
          ["Signatories", p.signatories],
        ],
        "protocol-terms",
      ),
      heading("h2", `Clauses (${body.terms.length})`),
    ];
    for (const clause of body.terms) {
      parts.push(heading("h3", `Clause ${clause.id}`));
      parts.push(
        summaryList(
          [
            ["Recipients", clause.recipients],
            ["Datasets", clause.datasets],
            ["Fields", clause.fields],
            ["Categories", clause.categories],
            ["Where", clause.scope],
            ["Location", clause.spatial_precision],
            ["Time", clause.temporal_precision],
            ["Output", clause.output],
            ["Disclosure rule", clause.disclosure],
            ["Retention", clause.retention],
            ["Linkage", clause.linkage],
          ],
          `clause-${clause.id}`,
        ),
      );
    }
    container.replaceChildren(...parts);
  } catch (error) {
    say(container, "The protocol could not be shown.");
    showError(error);
  }
  drawn();
}

main();
