"""Demo data and (later) the simulation: drives the real services to fill the platform."""
