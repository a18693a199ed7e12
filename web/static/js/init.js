// Starts GOV.UK Frontend's and the MOJ Pattern Library's components on every page.
import { initAll } from "/assets/govuk/govuk-frontend.min.js";

initAll();
