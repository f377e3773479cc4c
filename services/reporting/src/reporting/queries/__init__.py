"""Reads of reporting's read models, one module a report, each figure disclosure-controlled
on its way out: FFT tables and trend (``fft``), themes (``themes``), comments
(``comments``), the scorecard (``scorecard``) with its membership measures (``membership``),
notification measures (``notifications``), feedback volume (``feedback_volume``), the
registered population (``population``) and the month's disclosure audit (``monthly_audit``)."""
