"""Hypothesis settings profiles for the property tier (HYPOTHESIS_PROFILE, default ``ci``).

* ``ci``: bounded so the whole tier stays under ~90 s on a 2-core machine; what the README's
  test command and ``.ci/run`` use.
* ``dev``: more examples, for a change to the rules, readers or forms.
* ``fuzz``: a long run to hunt for new failing inputs (minutes to hours).
* ``triage``: ``ci`` without shrinking, to see a failure quickly.

Every profile has ``deadline=None``: an example's run time varies with the machine's load
(pandas, pandera, openpyxl and SQLite do real work per example), and a flaky deadline error
says nothing about the code. Hangs are caught by ``support.time_bound`` instead. Tests that
touch a database or write files run a fraction of the examples (``support.examples``).
No health check is suppressed here; the few tests that need it say why.
"""

from __future__ import annotations

import os

from hypothesis import Phase, settings

settings.register_profile("ci", max_examples=60, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=200, deadline=None, print_blob=True)
settings.register_profile("fuzz", max_examples=5000, deadline=None, print_blob=True)
# like ci, but reports the first failing example as found (no shrinking, which can take
# minutes on the database tests): for a quick look at what fails
settings.register_profile("triage", max_examples=40, deadline=None, print_blob=True,
                          phases=[Phase.explicit, Phase.reuse, Phase.generate])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
