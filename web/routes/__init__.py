"""The web application's pages, a module per user group."""
