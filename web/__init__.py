"""The hub's web application: pages for CSP analysts, IG leads and partners, served by `hub api` on the API's
own endpoints and rules (every figure a page shows is fetched from the API by the page)."""
