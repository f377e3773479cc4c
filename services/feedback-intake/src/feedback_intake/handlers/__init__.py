"""The business logic of intake: one function per command or event, one module per
aggregate (submissions, reviews, responses, FFT returns, the Kafka ingress's rejections).
HTTP routes and Kafka consumers both call these; none of them commits (the caller's unit
of work does), except an FFT upload's job, which commits chunk by chunk so it can resume."""
