"""``supsim report``: run, sweep and load-test folders read, checked against their digests, and
written as one self-contained ``report.html`` (jinja2 templates in ``templates/``), ``report.md``
and ``report.json``."""
