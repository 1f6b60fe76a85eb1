from django.db import migrations

# The expression must match catalog.selectors.search exactly for PostgreSQL to use the index.
CREATE = (
    "CREATE INDEX IF NOT EXISTS catalog_resource_search_fts ON catalog_resource "
    "USING gin (to_tsvector('simple', search_text))"
)
DROP = "DROP INDEX IF EXISTS catalog_resource_search_fts"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
