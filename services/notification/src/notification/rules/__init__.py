"""Pure rules, no I/O: what each kind of email is (``kinds``), whether it may go now
(``consent``), when digests go out (``schedule``), how an email is rendered (``render``)
and the sample data previews show (``samples``)."""
