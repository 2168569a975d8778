"""The information-sharing framework both ways: a notice's life after approval, and what the partner sends back.

* :mod:`.life`: the states of a notice (draft, approved, sent, answered,
  closed, withdrawn), which change is allowed from which state, the partner's
  result, due periods and what is overdue. Pure rules, no storage.
* :mod:`.inbox`: communications received from a partner (accreditations,
  revocations, investigation results, 4(1) information), validated whole.

The application layer (:mod:`dossier_rules.services.notices` and
:mod:`dossier_rules.services.framework`) applies them, through the notices
service's one gate, and writes each change to the screening log.
"""
