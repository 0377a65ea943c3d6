package dev.skydeck.sqlite.internal;

import dev.skydeck.SkyDeckException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a file is, found without changing it (not a byte, no journal or WAL file created): the
 * check that runs before SkyDeck switches a database to WAL mode or lets Flyway near it.
 */
public final class DatabaseFile {
    /** What a file holds. */
    public enum Kind {
        /** No file, or an empty one: SkyDeck creates its schema there. */
        NEW,
        /** A SkyDeck database (it has SkyDeck's schema history). */
        SKYDECK,
        /** A database of the original (Python) SkyDeck: its tables, no schema history. */
        ORIGINAL,
        /** Some other SQLite database. */
        OTHER_SQLITE,
        /** Not a SQLite database at all. */
        NOT_SQLITE
    }

    /**
     * What the file holds and the tables seen.
     *
     * @param kind   what it is
     * @param tables its tables (empty unless it is a SQLite database)
     */
    public record Inspection(Kind kind, Set<String> tables) {
    }

    private static final byte[] MAGIC = "SQLite format 3\0".getBytes(StandardCharsets.US_ASCII);

    private DatabaseFile() {
    }

    /**
     * Inspects {@code file} read-only. A database in rollback-journal mode (the original's) is read
     * as immutable, so SQLite opens no journal and takes no lock that could leave a file behind; one
     * in WAL mode with a WAL file beside it is read read-only, through that WAL.
     *
     * @throws SkyDeckException when the file cannot be read
     */
    public static Inspection inspect(Path file) {
        byte[] header = new byte[100];
        int read;
        try {
            if (!Files.exists(file) || Files.size(file) == 0) {
                return new Inspection(Kind.NEW, Set.of());
            }
            try (InputStream in = Files.newInputStream(file)) {
                read = in.readNBytes(header, 0, header.length);
            }
        } catch (IOException e) {
            throw new SkyDeckException("cannot read " + file + " (" + e.getMessage() + "): check its permissions",
                    false, e);
        }
        if (read < header.length || !Arrays.equals(header, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            return new Inspection(Kind.NOT_SQLITE, Set.of());
        }
        boolean wal = header[18] == 2 && header[19] == 2;
        Path walFile = file.resolveSibling(file.getFileName() + "-wal");
        boolean immutable = !(wal && Files.exists(walFile));
        Set<String> tables = new TreeSet<>();
        Set<String> experimentColumns = new TreeSet<>();
        try (Connection c = openReadOnly(file, immutable); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT name FROM sqlite_master WHERE type = 'table'")) {
                while (rs.next()) {
                    tables.add(rs.getString(1));
                }
            }
            if (tables.contains("experiments")) {
                try (ResultSet rs = st.executeQuery("SELECT name FROM pragma_table_info('experiments')")) {
                    while (rs.next()) {
                        experimentColumns.add(rs.getString(1));
                    }
                }
            }
        } catch (SQLException e) {
            String m = String.valueOf(e.getMessage());
            if (m.contains("not a database") || m.contains("SQLITE_NOTADB")) {
                return new Inspection(Kind.NOT_SQLITE, Set.of());
            }
            throw new SkyDeckException("cannot read " + file + " (" + m + ")", false, e);
        }
        Kind kind;
        if (tables.contains("flyway_schema_history")) {
            kind = Kind.SKYDECK;
        } else if (tables.isEmpty()) {
            kind = Kind.NEW;
        } else if (tables.contains("jobs") && experimentColumns.containsAll(Set.of("name", "desired_state"))) {
            kind = Kind.ORIGINAL;
        } else {
            kind = Kind.OTHER_SQLITE;
        }
        return new Inspection(kind, Set.copyOf(tables));
    }

    /** A read-only connection that writes nothing next to the file (see {@link #inspect}). */
    public static Connection openReadOnly(Path file, boolean immutable) throws SQLException {
        Properties p = new Properties();
        p.setProperty("open_mode", "1"); // SQLITE_OPEN_READONLY
        String uri = file.toAbsolutePath().toUri().toString().replaceFirst("^file://", "file:");
        return DriverManager.getConnection("jdbc:sqlite:" + uri + (immutable ? "?immutable=1" : "?mode=ro"), p);
    }

    /**
     * Refuses to open anything but a new or SkyDeck database, before anything is written to it.
     *
     * @throws SkyDeckException saying what the file is and what to do
     */
    public static void requireNewOrSkyDeck(Path file) {
        Inspection found = inspect(file);
        switch (found.kind()) {
            case NEW, SKYDECK -> {
            }
            case ORIGINAL -> throw new SkyDeckException(file + " is a database of the original (Python) SkyDeck,"
                    + " which this SkyDeck does not open as it is. Nothing was changed. Bring it over with:"
                    + " skydeck import " + file);
            case OTHER_SQLITE -> throw new SkyDeckException(file + " is a SQLite database but not a SkyDeck one (it has"
                    + " the tables " + String.join(", ", found.tables()) + " and no SkyDeck schema history). Nothing"
                    + " was changed: choose another file (--db-path or SKYDECK_DB_PATH)");
            case NOT_SQLITE -> throw new SkyDeckException(file + " is not a database (it does not start like a SQLite"
                    + " file). Nothing was changed: choose another file (--db-path or SKYDECK_DB_PATH)");
        }
    }
}
