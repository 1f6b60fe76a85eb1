from django.db import migrations

from core.search import index_text


def forwards(apps, schema_editor):
    """Add the Chinese character pairs (core.search) to every resource's stored search text."""
    Resource = apps.get_model("catalog", "Resource")
    batch = []
    for resource in Resource.objects.only("id", "search_text").iterator(chunk_size=2000):
        text = index_text(resource.search_text)
        if text != resource.search_text:
            resource.search_text = text
            batch.append(resource)
        if len(batch) >= 2000:
            Resource.objects.bulk_update(batch, ["search_text"])
            batch = []
    if batch:
        Resource.objects.bulk_update(batch, ["search_text"])


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_resource_search_index")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
