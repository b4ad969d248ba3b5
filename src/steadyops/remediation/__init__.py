"""Safe remediation: plan → approve → apply → verify, with a signed, hash-chained audit log."""
