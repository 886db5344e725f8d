"""PostgreSQL health signals, read the way a DBA would, one module per group of signals."""
