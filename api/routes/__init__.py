"""The API's routes, one module per subject; each route is thin and reads through the store."""
