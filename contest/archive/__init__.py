"""A call's archive for a records office: one zip with the call's rows as JSON, spreadsheets, every stored file,
its published results and timeline; and the restoring of such an archive into another site.

What belongs to a call is not listed by hand: the foreign keys are walked from `call` (see `owned_tables`), so
a table added later travels in the archive without anyone remembering it. The tables a call shares with the
rest of the site (people, departments) are matched on import; the few left out are named with the reason.

Ids are kept when the importing site has none of them (an empty site then serves the same addresses);
otherwise a table's rows get new ids, and every reference to them is translated, JSON ones included.
"""
from contest.archive.belongs import (
    BY_REFERENCE,
    BY_TARGET,
    LEFT_OUT,
    ROOT,
    SHARED,
    coverage,
    owned_tables,
)
from contest.archive.export import PSEUDONYMISED, USER_WITHHELD, Exported, export_call
from contest.archive.format import FORMAT, FORMAT_VERSION, MANIFEST, README, ArchiveError
from contest.archive.restore import (
    AUDIT_DETAIL_IDS,
    AUDIT_DETAIL_PLAIN,
    EVENT_DETAIL_IDS,
    EVENT_DETAIL_PLAIN,
    JSON_WITH_IDS,
    JSON_WITHOUT_IDS,
    Imported,
    import_call,
)

__all__ = ["AUDIT_DETAIL_IDS", "AUDIT_DETAIL_PLAIN", "BY_REFERENCE", "BY_TARGET", "EVENT_DETAIL_IDS",
           "EVENT_DETAIL_PLAIN", "FORMAT", "FORMAT_VERSION", "JSON_WITHOUT_IDS", "JSON_WITH_IDS", "LEFT_OUT",
           "MANIFEST", "PSEUDONYMISED", "README", "ROOT", "SHARED", "USER_WITHHELD", "ArchiveError", "Exported",
           "Imported", "coverage", "export_call", "import_call", "owned_tables"]
