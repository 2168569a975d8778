"""Transparency-log primitives, free of storage and I/O: RFC 6962 Merkle trees and signed checkpoints.

:mod:`.merkle` hashes leaves and nodes as RFC 6962 does and makes and checks
inclusion and consistency proofs with RFC 9162's algorithms; :mod:`.checkpoints`
signs and opens tree heads in the signed-note form used by Go's checksum
database and the transparency-dev checkpoint format, with Ed25519 keys. The
screening log (:mod:`dossier_rules.services.screening_log`) stores its tree with
these, and a witness checks what it is given with the same functions.
"""
