"""Long-running work of intake besides the API, consumer and relay: FFT upload jobs."""
