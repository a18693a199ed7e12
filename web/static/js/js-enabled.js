// Marks the page as scripted before it renders (GOV.UK Frontend styles its components only then); kept out of
// line so the Content-Security-Policy need not allow inline script.
document.body.className += " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
