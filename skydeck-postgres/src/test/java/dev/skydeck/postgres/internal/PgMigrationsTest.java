package dev.skydeck.postgres.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.skydeck.jdbc.Migrations;
import dev.skydeck.postgres.EmbeddedPg;
import dev.skydeck.postgres.PostgresStore;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/** A PostgreSQL database at this build's schema opens without Flyway; the shortcut expects the newest migration. */
class PgMigrationsTest {
    private static final Pattern MIGRATION = Pattern.compile("V(\\d+)__.+\\.sql");

    @Test
    void theVersionTheShortcutExpectsIsTheNewestMigrationFile() throws Exception {
        URL folder = PgDatabase.class.getClassLoader().getResource("dev/skydeck/postgres/migration");
        assertThat(folder).isNotNull();
        int newest;
        try (Stream<Path> files = Files.list(Path.of(folder.toURI()))) {
            newest = files.map((p) -> MIGRATION.matcher(p.getFileName().toString()))
                    .filter(Matcher::matches)
                    .mapToInt((m) -> Integer.parseInt(m.group(1)))
                    .max().orElseThrow();
        }
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
