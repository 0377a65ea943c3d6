package dev.skydeck.jdbc;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * Brings a database's schema to this build's version with Flyway, without starting Flyway when
 * the schema is already there.
 *
 * <p>Flyway's start (its plugins, the class-path scan for migrations, validating each applied
 * one) costs about 0.2 s of every server start, though after the first start of a version there
 * is nothing to do. So the schema history is read first: when its newest row is this build's
 * version and no migration ever failed, the database is current and Flyway is not started. Any
 * other history (an empty or missing one, an older or newer version, a failed migration) goes
 * through Flyway exactly as before, with its checks and its messages. What the shortcut does not
 * repeat is Flyway's checksum comparison of migrations already applied: a released jar's
 * migrations never change, so it would only catch a developer editing an applied migration.
 */
public final class Migrations {
    private Migrations() {}

    /** What {@link #apply} found and did. */
    public record Outcome(String schemaVersion, int applied) {}

    /**
     * Migrates the database behind {@code dataSource} to {@code latestVersion}, the highest
     * version among the migrations at {@code location}.
     *
     * @param location      Flyway location of the migrations ({@code classpath:db/migration})
     * @param latestVersion the version of the newest migration there; a test of each module keeps
     *                      it equal to the newest file
     * @throws org.flywaydb.core.api.FlywayException when Flyway refuses or a migration fails
     */
    public static Outcome apply(DataSource dataSource, ClassLoader loader, String location, int latestVersion) {
        if (isCurrent(dataSource, latestVersion)) {
            return new Outcome(Integer.toString(latestVersion), 0);
        }
        MigrateResult migrated = Flyway.configure(loader)
                .dataSource(dataSource)
                .locations(location)
                .load()
                .migrate();
        return new Outcome(migrated.targetSchemaVersion != null ? migrated.targetSchemaVersion : migrated.initialSchemaVersion,
                migrated.migrationsExecuted);
    }

    /**
     * Whether the schema history says the database is at exactly {@code version}: its newest row
     * is that version and no row records a failure. False when there is no history yet.
     */
    public static boolean isCurrent(DataSource dataSource, int version) {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            try (ResultSet failed = s.executeQuery("SELECT count(*) FROM flyway_schema_history WHERE NOT success")) {
                if (!failed.next() || failed.getLong(1) != 0) {
                    return false;
                }
            }
            try (ResultSet newest = s.executeQuery("SELECT version FROM flyway_schema_history"
                    + " WHERE installed_rank = (SELECT max(installed_rank) FROM flyway_schema_history)")) {
                return newest.next() && Integer.toString(version).equals(newest.getString(1));
            }
        } catch (SQLException e) {
            return false; // no history table (a new database) or it cannot be read: Flyway decides and explains
        }
    }
}
