"""What vulture (make lint) cannot see being used: names a framework or a file format reads, never Python code.

Decorated entry points (click commands, FastAPI routes, pydantic validators, pytest fixtures) and Alembic's
revision hooks are left out in pyproject.toml's [tool.vulture]; this file names the rest. It is never
imported: vulture counts each name below as used. Add a name only with the reason it is reached.
"""
# ruff: noqa

_ = object()

# Attributes set for their effect on a library object: rich's table caption, openpyxl's data-validation prompts,
# sqlite3's transaction mode and row factory, uvicorn's server stop flag, ruamel.yaml's layout settings (packs fmt),
# openpyxl's page set-up (the brief's workbook prints on A4).
_.caption, _.errorTitle, _.showInputMessage, _.isolation_level, _.row_factory, _.should_exit
_.preserve_quotes, _.allow_unicode, _.brace_single_entry_mapping_in_flow_sequence, _.paperSize

# Fields of pydantic models that only validation and serialisation read: the published formats (dossier, pack,
# registry, report, run header, notice, API bodies and the framework's letters). Rule packs, templates and the
# API's clients read them by name from JSON.
# model.py (dossiers; the packs' rules read these paths)
(revoked_on, legal_form, date_of_birth, passport_number, issue_date, certificate_number, taken_on,
 impersonation_reported, other_fraud_reported, fraud_substantiated, certificate_forged_or_altered, payer,
 payee, basis_shown, breakdown_explained, explanation_language, acknowledged, concluded, unlawful,
 perpetrator, occurred_on, provided_by, relation, schema_version, residence, status_sought, hire_route,
 sending_agency, held_property, contract_clauses, incidents, documents, dependents, receiving_organisation_id,
 support_organisation_id, published, breakdown_shown, holds_passports, takes_deposits, penalty_contracts,
 substantiated, based_in, fee_schedule, practices, complaints)
# packs/format.py, registries.py (the pack and registry formats)
(end_rule, instrument, registry_version)
# report.py (reports and the run header of a batch output)
(not_provided, report_version, record_type, format_version, packset_sha256, registries_sha256)
# server/contract.py (the API's response bodies)
(screened_by, log_hash, dossier_sha256, rescreen_of, warn, unchanged, old_inputs, new_inputs, defined_in, cites)
# sharing/model.py, framework/inbox.py (notices, and letters received from a partner)
(contact_point, notice_version, sender, recipient, communication_version)
