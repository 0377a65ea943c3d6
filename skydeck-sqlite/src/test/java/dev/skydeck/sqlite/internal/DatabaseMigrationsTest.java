package dev.skydeck.sqlite.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.skydeck.SkyDeckException;
import dev.skydeck.jdbc.Migrations;
import dev.skydeck.testing.MigrationFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteDataSource;

/** The store opens a current database without starting Flyway, and still migrates or refuses every other one. */
class DatabaseMigrationsTest {
    @TempDir
    Path dir;

    @Test
    void theVersionTheShortcutExpectsIsTheNewestMigrationFile() throws Exception {
        int newest = MigrationFiles.newestVersion(Database.class.getClassLoader(), "db/migration");
        assertThat(Database.SCHEMA_VERSION).isEqualTo(newest);
    }

    @Test
    void aDatabaseIsCurrentOnlyOnceEveryMigrationHasSucceeded() throws Exception {
        Path file = dir.resolve("deck.db");
        assertThat(Migrations.isCurrent(source(file), Database.SCHEMA_VERSION)).as("a new file has no history").isFalse();

        Database.open(file, Duration.ofSeconds(5), 1).close();

        assertThat(Migrations.isCurrent(source(file), Database.SCHEMA_VERSION)).isTrue();
        assertThat(Migrations.isCurrent(source(file), Database.SCHEMA_VERSION - 1)).isFalse();
        assertThat(Migrations.isCurrent(source(file), Database.SCHEMA_VERSION + 1)).isFalse();
        Database.open(file, Duration.ofSeconds(5), 1).close(); // the shortcut: opens as before
    }

    @Test
    void aFailedMigrationInTheHistoryStillStopsTheStoreWithFlywaysReason() throws Exception {
        Path file = dir.resolve("deck.db");
        Database.open(file, Duration.ofSeconds(5), 1).close();
        sql(file, "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum,"
                + " installed_by, execution_time, success) VALUES (100, '" + Database.SCHEMA_VERSION
                + "', 'half done', 'SQL', 'V" + Database.SCHEMA_VERSION + "__half_done.sql', 1, 'test', 1, 0)");

        assertThat(Migrations.isCurrent(source(file), Database.SCHEMA_VERSION)).isFalse();
        assertThatThrownBy(() -> Database.open(file, Duration.ofSeconds(5), 1))
                .isInstanceOf(SkyDeckException.class)
                .hasMessageContaining("failed migration");
    }

    @Test
    void aDatabaseOfANewerSkyDeckGoesThroughFlywayWhichOpensItAsBefore() throws Exception {
        Path file = dir.resolve("deck.db");
        Database.open(file, Duration.ofSeconds(5), 1).close();
        int newer = Database.SCHEMA_VERSION + 1;
        sql(file, "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum,"
                + " installed_by, execution_time, success) VALUES (100, '" + newer + "', 'from the future', 'SQL', 'V"
                + newer + "__from_the_future.sql', 1, 'test', 1, 1)");

        assertThat(Migrations.isCurrent(source(file), Database.SCHEMA_VERSION)).isFalse();
        // Flyway ignores migrations newer than its own by default: a downgraded SkyDeck still opens the file
        Database.open(file, Duration.ofSeconds(5), 1).close();
    }

    private static SQLiteDataSource source(Path file) {
        SQLiteDataSource source = new SQLiteDataSource();
        source.setUrl("jdbc:sqlite:" + file);
        return source;
    }

    private static void sql(Path file, String statement) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement()) {
            s.execute(statement);
        }
    }
}
