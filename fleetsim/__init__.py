"""Light simulated sites for the fleet's load tests."""
