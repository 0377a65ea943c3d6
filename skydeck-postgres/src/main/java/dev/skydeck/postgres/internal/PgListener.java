package dev.skydeck.postgres.internal;

import dev.skydeck.Subscription;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Listens on {@link PostgresDialect#CHANNEL} on a connection of its own and calls the
 * subscribers whenever any process commits events, so each process's event feed reads the
 * events table again. A notification is only a wake-up: the table is the truth, so after the
 * listening connection is lost (and again once it is back) the subscribers are called too, and
 * nothing committed meanwhile is missed.
 */
public final class PgListener implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PgListener.class);
    private static final int WAIT_MILLIS = 10_000;
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(10);

    private final PgDatabase database;
    private final List<Runnable> subscribers = new CopyOnWriteArrayList<>();
    private final Object lock = new Object();
    private Thread thread;
    private volatile Connection connection;
    private volatile boolean closed;

    /** A listener on {@code database}'s server; it connects when the first subscriber arrives. */
    public PgListener(PgDatabase database) {
        this.database = database;
    }

    /** Calls {@code subscriber} (on the listener's thread, quickly) after every commit that appended events. */
    public Subscription subscribe(Runnable subscriber) {
        subscribers.add(subscriber);
        synchronized (lock) {
            if (thread == null && !closed) {
                thread = new Thread(this::run, "skydeck-pg-listen");
                thread.setDaemon(true);
                thread.start();
            }
        }
        return () -> subscribers.remove(subscriber);
    }

    private void run() {
        long backoff = 250;
        boolean warned = false;
        while (!closed) {
            try (Connection c = DriverManager.getConnection(database.url(), database.properties())) {
                connection = c;
                try (Statement st = c.createStatement()) {
                    st.execute("LISTEN " + PostgresDialect.CHANNEL);
                }
                if (warned) {
                    LOG.info("Listening for other SkyDeck processes' events on {} again", database.describe());
                    warned = false;
                }
                backoff = 250;
                fire(); // whatever was committed while this connection was not listening
                PGConnection pg = c.unwrap(PGConnection.class);
                while (!closed) {
                    PGNotification[] got = pg.getNotifications(WAIT_MILLIS);
                    if (got != null && got.length > 0) {
                        fire();
                    } else {
                        try (Statement st = c.createStatement()) {
                            st.execute("SELECT 1"); // a lost connection shows here, not only at the next event
                        }
                    }
                }
            } catch (SQLException e) {
                if (closed) {
                    return;
                }
                if (!warned) {
                    LOG.warn("Lost the notification connection to {} ({}); events written by other SkyDeck"
                            + " processes arrive once it is back (retrying)", database.describe(), e.getMessage());
                    warned = true;
                }
                fire();
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    return;
                }
                backoff = Math.min(MAX_BACKOFF.toMillis(), backoff * 2);
            } finally {
                connection = null;
            }
        }
    }

    private void fire() {
        for (Runnable r : subscribers) {
            try {
                r.run();
            } catch (RuntimeException e) {
                LOG.warn("An event-feed wake-up failed: {}", e.toString());
            }
        }
    }

    /** Stops listening; idempotent. */
    @Override
    public void close() {
        Thread t;
        synchronized (lock) {
            closed = true;
            t = thread;
        }
        Connection c = connection;
        if (c != null) {
            try {
                c.close();
            } catch (SQLException e) {
                LOG.debug("closing the notification connection failed: {}", e.getMessage());
            }
        }
        if (t != null) {
            t.interrupt();
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
