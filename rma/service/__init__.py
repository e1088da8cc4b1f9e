"""The service layer: one batch, one mail, fan-out, status; one unit of work each."""
