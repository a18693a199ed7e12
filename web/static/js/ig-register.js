// The protocol register: those due for review or expiring within 90 days first (a notification banner), then
// every version in a sortable table, each linking to its clauses in plain words.
import { drawn, getJSON, renderTable, say } from "/static/js/hub.js";
import { dense, linkCells, showError, sortable } from "/static/js/ig-shared.js";

const DUE_WITHIN = 90;

function dueBanner(due) {
  const box = document.getElementById("due");
  if (due.length === 0) {
    box.replaceChildren();
    return;
  }
  const banner = document.createElement("div");
  banner.className = "govuk-notification-banner";
  banner.setAttribute("role", "region");
  banner.setAttribute("aria-labelledby", "due-title");
  const header = document.createElement("div");
  header.className = "govuk-notification-banner__header";
  const title = document.createElement("h2");
  title.className = "govuk-notification-banner__title";
  title.id = "due-title";
  title.textContent = "Important";
  header.appendChild(title);
  const content = document.createElement("div");
  content.className = "govuk-notification-banner__content";
  const heading = document.createElement("p");
  heading.className = "govuk-notification-banner__heading";
  heading.textContent = `${due.length} protocol${due.length === 1 ? " is" : "s are"} due for review or expiring within ${DUE_WITHIN} days`;
  const list = document.createElement("ul");
  list.className = "govuk-list govuk-list--bullet";
  list.id = "due-list";
  for (const p of due) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.className = "govuk-notification-banner__link";
    link.href = `/web/ig/protocols/${encodeURIComponent(p.id)}`;
    link.textContent = p.label;
    const when = [`review due ${p.review_due}`];
    if (p.expires) when.push(`expires ${p.expires}`);
    item.append(link, ` (${p.title}): ${when.join(", ")}`);
    item.dataset.label = p.label;
    list.appendChild(item);
  }
  content.append(heading, list);
  banner.append(header, content);
  box.replaceChildren(banner);
}

const COLUMNS = [
  { key: "label", label: "Protocol" },
  { key: "version", label: "Version", numeric: true },
  { key: "status", label: "Status", format: (v, row) => (row.in_force ? `${v}, in force` : `${v}, not in force: ${row.not_in_force_reason}`) },
  { key: "valid_from", label: "Valid from" },
  { key: "review_due", label: "Review due" },
  { key: "expires", label: "Expires", format: (v) => v ?? "No expiry date" },
  { key: "dpia_reference", label: "DPIA", format: (v) => v ?? "None given" },
  { key: "signatories", label: "Signatories", format: (v) => v.join("\n") },
];

async function main() {
  const container = document.getElementById("register");
  try {
    const [due, register] = await Promise.all([
      getJSON(`/v1/ig/protocols?due_within=${DUE_WITHIN}`),
      getJSON("/v1/ig/protocols"),
    ]);
    dueBanner(due);
    if (register.length === 0) {
      say(container, "Your organisation is party to no protocol.");
    } else {
      const table = renderTable(container, "Protocol register: every version", COLUMNS, register);
      const ids = Object.fromEntries(register.map((p) => [p.label, p.id]));
      linkCells(table, "label", (label) => `/web/ig/protocols/${encodeURIComponent(ids[label])}?version=${label.split("@")[1]}`);
      dense(table, ["signatories"]);
      sortable(table);
    }
  } catch (error) {
    say(container, "The register could not be shown.");
    showError(error);
  }
  drawn();
}

main();
