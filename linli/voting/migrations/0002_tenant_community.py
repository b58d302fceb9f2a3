"""Tenancy: the roll, votes and proxies carry their ballot's community (backfilled
from the ballot), and the unique keys lead with it."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


TABLES = ("voting_ballotvoter", "voting_vote", "voting_proxygrant")


def backfill(apps, schema_editor):
    # A correlated subquery runs on SQLite and PostgreSQL alike.
    qn = schema_editor.quote_name
    with schema_editor.connection.cursor() as cur:
        if schema_editor.connection.vendor == "postgresql":
            # No pending FK checks may remain before the ALTER TABLEs that follow.
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for t in TABLES:
            cur.execute(
                f"UPDATE {qn(t)} SET community_id = (SELECT b.community_id FROM "
                f"{qn('voting_ballot')} b WHERE b.id = {qn(t)}.ballot_id) "
                "WHERE community_id IS NULL"
            )


def not_null(model_name):
    return migrations.AlterField(
        model_name=model_name,
        name='community',
        field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='communities.orgunit'),
    )


class Migration(migrations.Migration):

    dependencies = [
        ('communities', '0001_initial'),
        ('voting', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='ballotvoter',
            name='ballotvoter_unique_household',
        ),
        migrations.RemoveConstraint(
            model_name='ballotvoter',
            name='ballotvoter_unique_resident',
        ),
        migrations.RemoveConstraint(
            model_name='proxygrant',
            name='proxy_one_live_per_voter',
        ),
        migrations.RemoveConstraint(
            model_name='vote',
            name='vote_one_per_voter',
        ),
        migrations.RemoveConstraint(
            model_name='vote',
            name='vote_idempotency_unique',
        ),
        migrations.RemoveIndex(
            model_name='vote',
            name='voting_vote_ballot__7608d9_idx',
        ),
        migrations.AddField(
            model_name='ballotvoter',
            name='community',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='communities.orgunit'),
        ),
        migrations.AddField(
            model_name='proxygrant',
            name='community',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='communities.orgunit'),
        ),
        migrations.AddField(
            model_name='vote',
            name='community',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='communities.orgunit'),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        not_null('ballotvoter'),
        not_null('proxygrant'),
        not_null('vote'),
        migrations.AlterField(
            model_name='vote',
            name='receipt_hash',
            field=models.CharField(max_length=64),
        ),
        migrations.AddIndex(
            model_name='vote',
            index=models.Index(fields=['community', 'ballot', 'channel'], name='voting_vote_communi_4f91b0_idx'),
        ),
        migrations.AddConstraint(
            model_name='ballotvoter',
            constraint=models.UniqueConstraint(condition=models.Q(('household__isnull', False)), fields=('community', 'ballot', 'household'), name='ballotvoter_unique_household'),
        ),
        migrations.AddConstraint(
            model_name='ballotvoter',
            constraint=models.UniqueConstraint(condition=models.Q(('resident__isnull', False)), fields=('community', 'ballot', 'resident'), name='ballotvoter_unique_resident'),
        ),
        migrations.AddConstraint(
            model_name='proxygrant',
            constraint=models.UniqueConstraint(condition=models.Q(('revoked_at__isnull', True)), fields=('community', 'voter'), name='proxy_one_live_per_voter'),
        ),
        migrations.AddConstraint(
            model_name='vote',
            constraint=models.UniqueConstraint(fields=('community', 'voter'), name='vote_one_per_voter'),
        ),
        migrations.AddConstraint(
            model_name='vote',
            constraint=models.UniqueConstraint(fields=('community', 'receipt_hash'), name='vote_receipt_hash_unique'),
        ),
        migrations.AddConstraint(
            model_name='vote',
            constraint=models.UniqueConstraint(condition=models.Q(('idempotency_key', ''), _negated=True), fields=('community', 'ballot', 'idempotency_key'), name='vote_idempotency_unique'),
        ),
    ]
