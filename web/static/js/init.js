// Starts GOV.UK Frontend's and the MOJ Pattern Library's components on every page (both ES modules exporting initAll).
import { initAll as initGovuk } from "/assets/govuk/govuk-frontend.min.js";
import { initAll as initMoj } from "/assets/moj/moj-frontend.min.js";

initGovuk();
initMoj();
