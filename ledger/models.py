from django.db import models
from django.utils.translation import gettext_lazy as _


class LedgerState(models.Model):
    """One row: the tree size. Appends lock it, so indices are gapless and in commit order."""

    size = models.BigIntegerField(default=0)
    # The leaf hash of entry ``size - 1``: the link the next entry copies into ``previous_leaf``.
    last_leaf = models.BinaryField(max_length=32, default=b"")

    class Meta:
        verbose_name = _("ledger state")

    def __str__(self) -> str:
        return f"ledger of {self.size} entries"


class LedgerEntry(models.Model):
    """One transaction record: the exact RFC 8785 bytes, never re-serialised."""

    index = models.BigIntegerField(_("index"), primary_key=True)
    entry = models.BinaryField(_("entry (canonical JSON)"))
    leaf_hash = models.BinaryField(_("leaf hash"), max_length=32)
    # The leaf hash of entry ``index - 1`` (empty for entry 0 and for entries older than migration
    # 0003). Outside the tree: it lets ledger_verify name an entry rewritten together with its
    # leaf hash and bottom node, which the tree alone pins only to a pair of leaves.
    previous_leaf = models.BinaryField(_("previous entry's leaf hash"), max_length=32, default=b"")
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

    @property
    def signing_key_id(self) -> str:
        """``name+hex key id`` of the log key that signed this checkpoint (keys rotate)."""
        from ledger.signing import signing_key_id

        return signing_key_id(self.note)


class LedgerWitness(models.Model):
    """A department's witness (``LEDGER_WITNESSES``) and what the portal knows of it.

    ``cosigned_size`` is the largest tree it cosigned for this log: the next request starts
    there. Kept by ``ledger.witnesses``; never edited by hand.
    """

    name = models.CharField(_("name"), max_length=200)
    vkey = models.CharField(_("verifier key"), max_length=300, unique=True)
    url = models.URLField(_("address"), max_length=300)
    cosigned_size = models.BigIntegerField(_("cosigned size"), default=0)
    last_attempt_at = models.DateTimeField(_("last asked"), null=True, blank=True)
    last_answer = models.CharField(_("last answer"), max_length=300, blank=True)
    failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    alarm = models.TextField(
        _("alarm"),
        blank=True,
        help_text=_("A refusal of a checkpoint the portal holds honest: a bug or an attack."),
    )
    alarm_at = models.DateTimeField(_("alarm raised"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("witness")
        verbose_name_plural = _("witnesses")

    def __str__(self) -> str:
        return self.name


class LedgerCosignature(models.Model):
    """A witness's C2SP cosignature of one checkpoint, verified when it arrived."""

    checkpoint = models.ForeignKey(
        LedgerCheckpoint, on_delete=models.PROTECT, related_name="cosignatures"
    )
    witness = models.ForeignKey(LedgerWitness, on_delete=models.PROTECT, related_name="+")
    line = models.TextField(_("signature line"))
    timestamp = models.BigIntegerField(_("cosigned at (POSIX seconds)"))
    received_at = models.DateTimeField(_("received"), auto_now_add=True)

    class Meta:
        ordering = ["checkpoint_id", "witness_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["checkpoint", "witness"], name="cosignature_once_per_witness"
            )
        ]
        verbose_name = _("cosignature")
        verbose_name_plural = _("cosignatures")

    def __str__(self) -> str:
        return f"{self.witness} on checkpoint {self.checkpoint_id}"
