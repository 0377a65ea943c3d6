package dev.skydeck.postgres;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real PostgreSQL server for tests, started once per JVM from Maven Central's embedded
 * binaries (no installed server needed), and a fresh database on it for each test. Databases
 * are copied from a template that already holds SkyDeck's schema, so a test does not pay for
 * the migration.
 */
public final class EmbeddedPg {
    private static final AtomicInteger NEXT = new AtomicInteger();
    private static EmbeddedPostgres server;
    private static boolean templateReady;

    private EmbeddedPg() {
    }

    /** The server, started on first use (durability settings off: tests never survive a crash). */
    public static synchronized EmbeddedPostgres server() {
        if (server == null) {
            try {
                server = EmbeddedPostgres.builder()
                        .setServerConfig("fsync", "off")
                        .setServerConfig("synchronous_commit", "off")
                        .setServerConfig("full_page_writes", "off")
                        .setServerConfig("max_connections", "300")
                        .start();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start the embedded PostgreSQL server", e);
            }
            EmbeddedPostgres started = server;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    started.close();
                } catch (IOException e) {
                    // the JVM is going away; the data directory is temporary
                }
            }));
        }
        return server;
    }

    /** The JDBC URL of database {@code name} on the server, as user {@code postgres}. */
    public static String url(String name) {
        return "jdbc:postgresql://localhost:" + server().getPort() + "/" + name + "?user=postgres";
    }

    /** A new empty database (no schema), for tests of migrations and of {@code skydeck migrate}. */
    public static String emptyDatabase() {
        String name = "empty_" + NEXT.incrementAndGet();
        admin("CREATE DATABASE " + name);
        return url(name);
    }

    /** A new database holding SkyDeck's current schema and no data. */
    public static synchronized String newDatabase() {
        if (!templateReady) {
            admin("CREATE DATABASE skydeck_template");
            PostgresStore.open(url("skydeck_template")).close();
            templateReady = true;
        }
        String name = "deck_" + NEXT.incrementAndGet();
        admin("CREATE DATABASE " + name + " TEMPLATE skydeck_template");
        return url(name);
    }

    private static void admin(String sql) {
        try (Connection c = DriverManager.getConnection(url("postgres"));
             Statement st = c.createStatement()) {
            st.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException("embedded PostgreSQL: " + sql + " failed: " + e.getMessage(), e);
        }
    }
}
