from django.db import migrations, models

# Only the append path can append (PostgreSQL; a no-op elsewhere, like 0002).
#
# The design: ``ledger_append`` reserves an index before it stores anything. Under its row lock on
# the state it grows ``size`` by one (and sets ``last_leaf``), then inserts the entry at the index
# it reserved, then the tree nodes that entry completes. So:
#
# - An entry is accepted only at an index below the size whose predecessor is stored. Committed
#   entries fill every index below the committed size, so the only free index is one the
#   inserting transaction reserved itself: a stray INSERT at index = size (or anywhere else) is
#   refused on the spot and cannot take the next append's index. Its ``previous_leaf`` must be
#   its predecessor's leaf hash and, at the newest index, its leaf hash must be ``last_leaf``.
# - A tree node is accepted only over a stored entry below the size (the entry that completes
#   it); every such node is already stored, so outside an append the unique constraint refuses it.
# - A checkpoint is accepted only for the current size.
# - The state row: one row (id 1) that starts at size 0, is never deleted, whose size never
#   shrinks and whose ``last_leaf`` changes only with the size. A deferred check at commit refuses
#   a size that grew without its entries: the newest entry must be stored, and each entry the
#   update reserved with every node it completes. (Those deferred events are queued on the state
#   table alone: a test that ALTERs that table after appends in the same transaction runs
#   ``SET CONSTRAINTS ALL IMMEDIATE`` first, as Django's own constraint check does.)
# - TRUNCATE (a statement trigger; row triggers do not see it) is refused on all four tables,
#   unless the session says ``govshare.ledger_reset = on``. Only the test harness says so, for
#   Django's flush between transactional tests (tests/conftest.py); the application never does.
#   Whoever can set it can also drop these triggers: they stop mistakes and the application's own
#   database role, not the database owner. Against the owner the defence is the departments'
#   witnesses, which never cosign a checkpoint that does not extend the one they cosigned.
TABLES = ["ledger_ledgerentry", "ledger_ledgernode", "ledger_ledgercheckpoint", "ledger_ledgerstate"]

FUNCTIONS = r"""
CREATE FUNCTION ledger_entry_reserved() RETURNS trigger AS $$
DECLARE
    state_size bigint;
    state_leaf bytea;
    before bytea := ''::bytea;
BEGIN
    SELECT size, last_leaf INTO state_size, state_leaf FROM ledger_ledgerstate WHERE id = 1;
    IF NEW.index < 0 OR NEW.index >= COALESCE(state_size, 0) THEN
        RAISE EXCEPTION 'the ledger refuses entry %: ledger_append reserves an index by growing '
            'the size (now %) before it stores the entry', NEW.index, COALESCE(state_size, 0)
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.index > 0 THEN
        SELECT leaf_hash INTO before FROM ledger_ledgerentry WHERE index = NEW.index - 1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'the ledger refuses entry %: entry % is not stored (indices are '
                'gapless)', NEW.index, NEW.index - 1 USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    IF NEW.previous_leaf IS DISTINCT FROM before THEN
        RAISE EXCEPTION 'the ledger refuses entry %: previous_leaf is not the leaf hash of the '
            'entry before it', NEW.index USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.index = state_size - 1 AND NEW.leaf_hash IS DISTINCT FROM state_leaf THEN
        RAISE EXCEPTION 'the ledger refuses entry %: its leaf hash is not the last_leaf its '
            'append reserved', NEW.index USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION ledger_node_completed() RETURNS trigger AS $$
DECLARE
    last bigint;
BEGIN
    -- Bounds first, so the shift below cannot overflow.
    IF NEW.level > 62 OR NEW.index < 0 OR NEW.index >= (1::bigint << (62 - NEW.level)) THEN
        RAISE EXCEPTION 'the ledger refuses tree node (%, %): out of range', NEW.level, NEW.index
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- The entry whose append completes this node. Every node over a committed entry is stored
    -- already (the unique constraint refuses it again), so this admits only the nodes of the
    -- entry being appended. (No read of the state row: in a long transaction of appends its
    -- versions pile up, and each read walks them.)
    last := ((NEW.index + 1) << NEW.level) - 1;
    IF NOT EXISTS (SELECT 1 FROM ledger_ledgerentry WHERE index = last) THEN
        RAISE EXCEPTION 'the ledger refuses tree node (%, %): ledger_append stores it with entry '
            '%, which is not stored', NEW.level, NEW.index, last
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION ledger_checkpoint_current() RETURNS trigger AS $$
DECLARE
    state_size bigint := COALESCE((SELECT size FROM ledger_ledgerstate WHERE id = 1), 0);
BEGIN
    IF NEW.tree_size <= 0 OR NEW.tree_size <> state_size THEN
        RAISE EXCEPTION 'the ledger refuses checkpoint %: ledger_checkpoint_sign signs the current '
            'size (%)', NEW.tree_size, state_size USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION ledger_state_grows() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.id <> 1 OR NEW.size <> 0 OR NEW.last_leaf <> ''::bytea THEN
            RAISE EXCEPTION 'the ledger refuses a state row (id %, size %): its one row starts '
                'empty', NEW.id, NEW.size USING ERRCODE = 'insufficient_privilege';
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'the ledger is append-only: DELETE on ledger_ledgerstate is refused'
            USING ERRCODE = 'insufficient_privilege';
    ELSIF NEW.id <> OLD.id OR NEW.size < OLD.size THEN
        RAISE EXCEPTION 'the ledger is append-only: its size can only grow (% to % is refused)',
            OLD.size, NEW.size USING ERRCODE = 'insufficient_privilege';
    ELSIF NEW.size = OLD.size AND NEW.last_leaf IS DISTINCT FROM OLD.last_leaf THEN
        RAISE EXCEPTION 'the ledger refuses a new last_leaf without a new entry'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

-- At commit: every entry this update reserved is stored, with each node it completes. An entry
-- missing while a later one is stored was removed with the triggers disabled (a superuser's
-- tampering, for ledger_verify to name): skipped here, not refused. (The event's own rows only:
-- no read of the state row, whose versions pile up in a long transaction of appends.)
CREATE FUNCTION ledger_state_filled() RETURNS trigger AS $$
DECLARE
    reserved bigint := OLD.size;
    position bigint;
    depth integer;
BEGIN
    WHILE reserved < NEW.size LOOP
        IF EXISTS (SELECT 1 FROM ledger_ledgerentry WHERE index = reserved) THEN
            position := reserved;
            depth := 0;
            LOOP
                IF NOT EXISTS (
                    SELECT 1 FROM ledger_ledgernode WHERE level = depth AND index = position
                ) THEN
                    RAISE EXCEPTION 'the ledger refuses entry %: stored without its tree node '
                        '(%, %)', reserved, depth, position
                        USING ERRCODE = 'insufficient_privilege';
                END IF;
                EXIT WHEN position & 1 = 0;
                position := position >> 1;
                depth := depth + 1;
            END LOOP;
        ELSIF NOT EXISTS (SELECT 1 FROM ledger_ledgerentry WHERE index = reserved + 1) THEN
            RAISE EXCEPTION 'the ledger refuses size %: entry % was never stored (the size grows '
                'only with ledger_append)', NEW.size, reserved
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        reserved := reserved + 1;
    END LOOP;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION ledger_refuse_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('govshare.ledger_reset', true) = 'on' THEN
        RETURN NULL;  -- the test harness resetting its own database (see the migration)
    END IF;
    RAISE EXCEPTION 'the ledger is append-only: TRUNCATE on % is refused', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

TRIGGERS = [
    "CREATE TRIGGER ledger_ledgerentry_reserved BEFORE INSERT ON ledger_ledgerentry "
    "FOR EACH ROW EXECUTE FUNCTION ledger_entry_reserved()",
    "CREATE TRIGGER ledger_ledgernode_completed BEFORE INSERT ON ledger_ledgernode "
    "FOR EACH ROW EXECUTE FUNCTION ledger_node_completed()",
    "CREATE TRIGGER ledger_ledgercheckpoint_current BEFORE INSERT ON ledger_ledgercheckpoint "
    "FOR EACH ROW EXECUTE FUNCTION ledger_checkpoint_current()",
    "CREATE TRIGGER ledger_ledgerstate_grows BEFORE INSERT OR UPDATE OR DELETE "
    "ON ledger_ledgerstate FOR EACH ROW EXECUTE FUNCTION ledger_state_grows()",
    "CREATE CONSTRAINT TRIGGER ledger_ledgerstate_filled AFTER UPDATE ON ledger_ledgerstate "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_state_filled()",
    *(
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_truncate()"
        for table in TABLES
    ),
]
DROPS = [
    "DROP TRIGGER IF EXISTS ledger_ledgerentry_reserved ON ledger_ledgerentry",
    "DROP TRIGGER IF EXISTS ledger_ledgernode_completed ON ledger_ledgernode",
    "DROP TRIGGER IF EXISTS ledger_ledgercheckpoint_current ON ledger_ledgercheckpoint",
    "DROP TRIGGER IF EXISTS ledger_ledgerstate_grows ON ledger_ledgerstate",
    "DROP TRIGGER IF EXISTS ledger_ledgerstate_filled ON ledger_ledgerstate",
    *(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}" for table in TABLES),
    "DROP FUNCTION IF EXISTS ledger_entry_reserved()",
    "DROP FUNCTION IF EXISTS ledger_node_completed()",
    "DROP FUNCTION IF EXISTS ledger_checkpoint_current()",
    "DROP FUNCTION IF EXISTS ledger_state_grows()",
    "DROP FUNCTION IF EXISTS ledger_state_filled()",
    "DROP FUNCTION IF EXISTS ledger_refuse_truncate()",
]


def link_entries(apps, schema_editor):
    """Links for a ledger that already has entries: each entry's ``previous_leaf`` and the
    state's ``last_leaf``. The one UPDATE of stored entries the ledger allows, here, as the owner,
    before the new triggers exist (0002's refuses it: disabled for this statement only). The
    links are outside the tree: no leaf, node or signed root changes."""
    from django.db.models import OuterRef, Subquery

    alias = schema_editor.connection.alias
    entry_model = apps.get_model("ledger", "LedgerEntry")
    state_model = apps.get_model("ledger", "LedgerState")
    before = entry_model.objects.using(alias).filter(index=OuterRef("index") - 1)
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute(
            "ALTER TABLE ledger_ledgerentry DISABLE TRIGGER ledger_ledgerentry_append_only"
        )
    entry_model.objects.using(alias).filter(index__gt=0).update(
        previous_leaf=Subquery(before.values("leaf_hash")[:1])
    )
    if postgres:
        schema_editor.execute(
            "ALTER TABLE ledger_ledgerentry ENABLE TRIGGER ledger_ledgerentry_append_only"
        )
    for state in state_model.objects.using(alias).filter(size__gt=0):
        leaf = (
            entry_model.objects.using(alias)
            .filter(index=state.size - 1)
            .values_list("leaf_hash", flat=True)
            .first()
        )
        if leaf is not None:
            state.last_leaf = bytes(leaf)
            state.save(update_fields=["last_leaf"])


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTIONS, params=None)  # the bodies have literal % signs
    for statement in TRIGGERS:
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in DROPS:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_append_only_triggers")]
    operations = [
        migrations.AddField(
            model_name="ledgerstate",
            name="last_leaf",
            field=models.BinaryField(default=b"", max_length=32),
        ),
        migrations.AddField(
            model_name="ledgerentry",
            name="previous_leaf",
            field=models.BinaryField(
                default=b"", max_length=32, verbose_name="previous entry's leaf hash"
            ),
        ),
        migrations.RunPython(link_entries, migrations.RunPython.noop),
        migrations.RunPython(forwards, backwards),
    ]
