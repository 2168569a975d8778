"""The application layer: what the command line, the API and the pages all do, written once.

As OPA's ``rego`` package is to its ``cmd/`` and ``server/``, these services are
to :mod:`dossier_rules.cli`, :mod:`dossier_rules.server` and
:mod:`dossier_rules.web`: each takes plain arguments and the storage objects
it works on, returns models or plain data, and refuses with a typed
:class:`~dossier_rules.errors.DossierError`. The interfaces only parse their
input, call a service, and render its answer (or its error) in their own words.

* :mod:`.workspace`: packs, registries directory and database, resolved once.
* :mod:`.catalog`: packs, rules (``explain``), coverage, registries as data.
* :mod:`.screening`: screen, list, read back and re-screen, redacted by role.
* :mod:`.notices`: build, list, preview, approve and export notices; every state
  change of a notice and every preview written to the screening log in one place.
* :mod:`.framework`: the framework both ways: the inbox of partners'
  communications (revocations update the registries through :mod:`.registries`),
  inquiries, the 4(2) agenda, and Japan's own notices (improvement orders,
  inquiries) with their one logged gate. A notice's life after approval
  (send, answer, close, withdraw) is in :mod:`.notices`, through its gate.
* :mod:`.registries`: importing a registry (with the refusal to overwrite the
  shipped samples) for the CLI and the API alike.
* :mod:`.accounts`: users, roles, passwords, tokens and sessions: the store and
  what the CLI and the API call on it.
* :mod:`.screening_store`: screenings stored, read back, listed and re-screened
  (``Screenings``, one per app), each one an entry of the log.
* :mod:`.screening_log`: the tamper-evident screening log (a Merkle tree with
  signed checkpoints) over the rows of :mod:`dossier_rules.storage.log`.

Nothing here imports an interface (``cli``, ``server``, ``web``); the SQL is in
:mod:`dossier_rules.storage`.
"""
