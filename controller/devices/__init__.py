"""Device register maps (declarative data, one module per family) and device natures."""
