"""Real parts the tests run against, started by fixtures."""
