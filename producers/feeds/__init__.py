"""One module per dataset: a partner format's row model, columns and mapping (`FEED`), and the helpers they share."""
