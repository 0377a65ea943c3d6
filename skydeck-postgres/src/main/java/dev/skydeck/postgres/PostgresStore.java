package dev.skydeck.postgres;

import dev.skydeck.SkyDeckException;
import dev.skydeck.Subscription;
import dev.skydeck.jdbc.JdbcStore;
import dev.skydeck.postgres.internal.PgDatabase;
import dev.skydeck.postgres.internal.PgListener;
import dev.skydeck.postgres.internal.PostgresDialect;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;

/**
 * A {@link dev.skydeck.spi.Store} on PostgreSQL: one deck for a team, shared by any number of
 * SkyDeck processes on any number of machines.
 *
 * <pre>{@code
 * try (SkyDeck deck = SkyDeck.builder()
 *         .store(PostgresStore.open("jdbc:postgresql://db.internal:5432/skydeck"))
 *         .build()) {
 *     deck.create(ExperimentSpec.named("ppo_4layer").flag("lr", 3e-4));
 * }
 * }</pre>
 *
 * <p>Writes from every process are serialised by one advisory lock, so the store behaves exactly
 * as the SQLite one does: the one-active-launch rule and name uniqueness are database
 * constraints, and events are numbered in commit order without gaps. Each commit that appends
 * events sends a {@code NOTIFY}, which {@link #onExternalCommit} turns into a wake-up for the
 * process's event feed, so every process delivers every event exactly once and in order.
 *
 * <p>Credentials come from the URL's {@code user} and {@code password} parameters, else from
 * {@code PGUSER} / {@code PGPASSWORD} (see {@link Builder#environment}), else from
 * {@code ~/.pgpass} (read by the driver). They are never logged: {@link #describe()} drops the
 * URL's parameters.
 *
 * <p>Thread-safe. {@link #close()} is idempotent; any use after it throws {@link SkyDeckException}.
 */
public final class PostgresStore extends JdbcStore {
    /** Read connections by default. */
    public static final int DEFAULT_READERS = 8;

    private final PgDatabase database;
    private final PgListener listener;

    private PostgresStore(PgDatabase database) {
        super(database, PostgresDialect.INSTANCE);
        this.database = database;
        this.listener = new PgListener(database);
    }

    /**
     * Opens the store at {@code jdbcUrl} ({@code jdbc:postgresql://host:port/database}), migrating
     * its schema to the current version; credentials as the class comment says, from this
     * process's environment.
     *
     * @throws SkyDeckException when the server cannot be reached or refuses the credentials, or the
     *                          database holds a schema newer than this version of SkyDeck knows
     */
    public static PostgresStore open(String jdbcUrl) {
        return builder(jdbcUrl).environment(System.getenv()).open();
    }

    /** A builder for a store at {@code jdbcUrl}, to change the defaults before opening it. */
    public static Builder builder(String jdbcUrl) {
        return new Builder(jdbcUrl);
    }

    /** Whether {@code url} is a PostgreSQL JDBC URL. */
    public static boolean accepts(String url) {
        return url != null && url.startsWith("jdbc:postgresql:");
    }

    /** Settings for {@link PostgresStore}; validated when set, used by {@link #open()}. */
    public static final class Builder {
        private final String url;
        private String user;
        private String password;
        private Map<String, String> environment = Map.of();
        private int readers = DEFAULT_READERS;
        private Duration connectTimeout = Duration.ofSeconds(10);

        private Builder(String url) {
            if (!accepts(url)) {
                throw new SkyDeckException.InvalidInput("database URL '" + withoutParameters(url)
                        + "' is not allowed: use jdbc:postgresql://host:port/database");
            }
            this.url = url;
        }

        /** The user to connect as (else the URL's, {@code PGUSER}'s, or the driver's default). */
        public Builder user(String value) {
            this.user = value;
            return this;
        }

        /** The password (else the URL's, {@code PGPASSWORD}'s, or {@code ~/.pgpass}'s). Never logged. */
        public Builder password(String value) {
            this.password = value;
            return this;
        }

        /** Where {@code PGUSER} and {@code PGPASSWORD} are read from (default: nothing). */
        public Builder environment(Map<String, String> value) {
            this.environment = Map.copyOf(Objects.requireNonNull(value, "environment"));
            return this;
        }

        /** How many read connections to keep (default 8, 1 to 64). */
        public Builder readers(int value) {
            if (value < 1 || value > 64) {
                throw new SkyDeckException.InvalidInput("readers " + value + " is not allowed: use 1 to 64");
            }
            this.readers = value;
            return this;
        }

        /** How long to wait for a connection, at open and later (default 10 s). */
        public Builder connectTimeout(Duration value) {
            if (value == null || value.isNegative() || value.isZero() || value.compareTo(Duration.ofMinutes(10)) > 0) {
                throw new SkyDeckException.InvalidInput("connect timeout " + value
                        + " is not allowed: use 1 ms to 10 min");
            }
            this.connectTimeout = value;
            return this;
        }

        /** Opens the store (see {@link PostgresStore#open(String)}). */
        public PostgresStore open() {
            Properties p = new Properties();
            p.setProperty("ApplicationName", "skydeck");
            p.setProperty("tcpKeepAlive", "true");
            String u = user != null ? user : environment.get("PGUSER");
            String pw = password != null ? password : environment.get("PGPASSWORD");
            if (u != null && !u.isBlank() && !url.contains("user=")) {
                p.setProperty("user", u);
            }
            if (pw != null && !url.contains("password=")) {
                p.setProperty("password", pw);
            }
            return new PostgresStore(PgDatabase.open(url, p, readers, connectTimeout));
        }

        private static String withoutParameters(String url) {
            return url == null ? "(none)" : url.replaceAll("\\?.*$", "");
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>Called after any process (this one included) commits events to this database, through
     * PostgreSQL's {@code LISTEN}; also after the listening connection was lost and comes back.
     */
    @Override
    public Subscription onExternalCommit(Runnable listener) {
        return this.listener.subscribe(Objects.requireNonNull(listener, "listener"));
    }

    /** Stops listening and closes every connection; idempotent. */
    @Override
    public void close() {
        listener.close();
        super.close();
    }
}
