"""The domain's vocabulary: columns, reason codes, issues, the sheet, results."""
