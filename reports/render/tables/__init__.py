"""The tables and sections commands print and ``summary.md`` holds: the run summary, the families',
discipline, data-quality, scorecard, network and collusion sections, and the calibration and
sweep tables, all laid out by :mod:`reports.render.text_table`."""
