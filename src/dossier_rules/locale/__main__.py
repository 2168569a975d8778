"""``python -m dossier_rules.locale``: bring the Japanese catalog in step with the code."""

from .catalog import po_path, update

added, dropped = update("ja")
print(f"{po_path('ja')}: {len(added)} new message(s) to translate, {len(dropped)} unused removed")
for text in added:
    print("  + " + text.splitlines()[0][:100])
