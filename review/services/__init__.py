"""Every write of this app, one module per subdomain."""
