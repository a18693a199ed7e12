"""What the tests share: the open-data file names, the hub environment and worker, the API client, reference data,
feed helpers, the police.uk expectations and the margin attack."""
