package dev.skydeck.postgres.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.skydeck.jdbc.Migrations;
import dev.skydeck.postgres.EmbeddedPg;
import dev.skydeck.postgres.PostgresStore;
import dev.skydeck.testing.MigrationFiles;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/** A PostgreSQL database at this build's schema opens without Flyway; the shortcut expects the newest migration. */
class PgMigrationsTest {
    @Test
    void theVersionTheShortcutExpectsIsTheNewestMigrationFile() throws Exception {
        int newest = MigrationFiles.newestVersion(PgDatabase.class.getClassLoader(), "dev/skydeck/postgres/migration");
        assertThat(PgDatabase.SCHEMA_VERSION).isEqualTo(newest);
    }

    @Test
    void aMigratedDatabaseIsCurrentAndAnEmptyOneIsNot() {
        String url = EmbeddedPg.emptyDatabase();
        PGSimpleDataSource source = new PGSimpleDataSource();
        source.setUrl(url);
        assertThat(Migrations.isCurrent(source, PgDatabase.SCHEMA_VERSION)).isFalse();

        PostgresStore.open(url).close();

        assertThat(Migrations.isCurrent(source, PgDatabase.SCHEMA_VERSION)).isTrue();
        assertThat(Migrations.isCurrent(source, PgDatabase.SCHEMA_VERSION - 1)).isFalse();
        PostgresStore.open(url).close(); // the shortcut: opens as before
    }
}
