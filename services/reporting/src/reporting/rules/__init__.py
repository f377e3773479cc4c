"""Reporting's pure rules, no I/O: disclosure control (``disclosure``), what an output shows
and the facts that bind it (``figures``), the disclosure audit (``disclosure_audit``), FFT
scores (``fft``), the publication rule set nhse-fft-v1 (``publication``), its CSV layout
(``fft_csv``), the registered population (``population``) and members against it
(``representation``)."""
