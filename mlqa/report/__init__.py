"""Reporting: JUnit enrichment, the results bundle, the release report."""
