from django.db import models
from django.utils.translation import gettext_lazy as _


class LedgerState(models.Model):
    """One row: the tree size. Appends lock it, so indices are gapless and in commit order."""

    size = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("ledger state")

    def __str__(self) -> str:
        return f"ledger of {self.size} entries"


class LedgerEntry(models.Model):
    """One transaction record: the exact RFC 8785 bytes, never re-serialised."""

    index = models.BigIntegerField(_("index"), primary_key=True)
    entry = models.BinaryField(_("entry (canonical JSON)"))
    leaf_hash = models.BinaryField(_("leaf hash"), max_length=32)
    # Copies of fields inside ``entry``, for search; the bytes stay the record.
    entry_type = models.CharField(_("type"), max_length=48, db_index=True)
    # Searched by word (regex): a btree index would not serve it and would slow every append.
    departments = models.CharField(_("departments"), max_length=200)
    subject = models.CharField(_("subject"), max_length=200)
    created_at = models.DateTimeField(_("recorded at"), db_index=True)

    class Meta:
        ordering = ["index"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")

    def __str__(self) -> str:
        return f"#{self.index} {self.entry_type} {self.subject}"

    @property
    def entry_bytes(self) -> bytes:
        return bytes(self.entry)


class LedgerNode(models.Model):
    """Hash of the complete subtree over leaves [index * 2**level, (index + 1) * 2**level)."""

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["level", "index"], name="ledger_node_unique")
        ]

    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


class LedgerCheckpoint(models.Model):
    """A signed C2SP tlog-checkpoint note for a tree size."""

    tree_size = models.BigIntegerField(_("tree size"), unique=True)
    root_hash = models.BinaryField(_("root hash"), max_length=32)
    note = models.TextField(_("signed note"))
    created_at = models.DateTimeField(_("signed at"), auto_now_add=True)

    class Meta:
        ordering = ["-tree_size"]
        get_latest_by = "tree_size"
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")

    def __str__(self) -> str:
        return f"checkpoint {self.tree_size}"
